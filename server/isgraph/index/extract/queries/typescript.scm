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
(variable_declarator name: (identifier) @var !type value: (new_expression constructor: (_) @ctor)) @local
(variable_declarator name: (identifier) @var !type
  value: (call_expression function: (_) @value)) @local
(variable_declarator name: (identifier) @var !type
  value: (member_expression object: (this) property: (property_identifier) @field)) @local
; bindings of no written type: they hide an outer variable, or take the type the called
; function gives its callback's parameter (TsSpec.contextual)
(required_parameter pattern: (identifier) @var !type) @local
(optional_parameter pattern: (identifier) @var !type) @local
(arrow_function parameter: (identifier) @var) @local
(variable_declarator name: (identifier) @var !type) @local
(for_in_statement left: (identifier) @var) @local
(catch_clause parameter: (identifier) @var) @local
