; References for C# (see extract/engine.py for the capture roles).
(file_scoped_namespace_declaration name: (_) @name) @package
(using_directive) @import
(invocation_expression function: (_) @callee) @call
(object_creation_expression type: (_) @callee) @new
(base_list [(identifier) (qualified_name) (generic_name)] @callee) @inherit
(variable_declaration type: (identifier) @type (variable_declarator name: (identifier) @var)) @local
(variable_declaration type: (qualified_name) @type (variable_declarator name: (identifier) @var)) @local
(variable_declaration type: (generic_name) @type (variable_declarator name: (identifier) @var)) @local
(variable_declarator name: (identifier) @var (object_creation_expression type: (_) @ctor)) @local
(parameter type: (_) @type name: (identifier) @var) @local
