; References for TypeScript and TSX (see extract/engine.py for the capture roles).
(import_statement) @import
(export_statement) @import
(variable_declarator
  value: (call_expression
    function: (identifier) @_req
    arguments: (arguments (string)))
  (#eq? @_req "require")) @import
(call_expression function: (_) @callee) @call
(new_expression constructor: (_) @callee) @new
(extends_clause value: (_) @callee) @inherit
(implements_clause (_) @callee) @inherit
(extends_type_clause type: (_) @callee) @inherit
(required_parameter pattern: (identifier) @var type: (type_annotation (_) @type)) @local
(optional_parameter pattern: (identifier) @var type: (type_annotation (_) @type)) @local
(variable_declarator name: (identifier) @var type: (type_annotation (_) @type)) @local
(variable_declarator name: (identifier) @var value: (new_expression constructor: (_) @ctor)) @local
