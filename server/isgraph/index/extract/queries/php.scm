; References for PHP (see extract/engine.py for the capture roles).
(namespace_definition name: (namespace_name) @name) @package
(namespace_use_declaration) @import
(function_call_expression function: (_) @callee) @call
(member_call_expression object: (_) @recv name: (name) @name) @call
(nullsafe_member_call_expression object: (_) @recv name: (name) @name) @call
(scoped_call_expression scope: (_) @recv name: (name) @name) @call
(object_creation_expression [(name) (qualified_name)] @callee) @new
(base_clause [(name) (qualified_name)] @callee) @inherit
(class_interface_clause [(name) (qualified_name)] @callee) @inherit
(use_declaration [(name) (qualified_name)] @callee) @inherit
(simple_parameter type: (named_type) @type name: (variable_name) @var) @local
(property_promotion_parameter type: (named_type) @type name: (variable_name) @var) @local
(assignment_expression left: (variable_name) @var right: (object_creation_expression [(name) (qualified_name)] @ctor)) @local
