; References for Java (see extract/engine.py for the capture roles).
(package_declaration [(identifier) (scoped_identifier)] @name) @package
(import_declaration) @import
(method_invocation object: (_)? @recv name: (identifier) @name) @call
(object_creation_expression type: (_) @callee) @new
(superclass (_) @callee) @inherit
(super_interfaces (type_list (_) @callee)) @inherit
(extends_interfaces (type_list (_) @callee)) @inherit
(local_variable_declaration type: (_) @type declarator: (variable_declarator name: (identifier) @var)) @local
(local_variable_declaration
  declarator: (variable_declarator name: (identifier) @var value: (object_creation_expression type: (_) @ctor))) @local
(formal_parameter type: (_) @type name: (identifier) @var) @local
