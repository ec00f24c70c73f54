; References for Go (see extract/engine.py for the capture roles).
(package_clause (package_identifier) @name) @package
(import_spec) @import
(call_expression function: (_) @callee) @call
(struct_type (field_declaration_list
  (field_declaration !name type: [(type_identifier) (qualified_type)] @callee) @inherit))
(struct_type (field_declaration_list
  (field_declaration !name type: (pointer_type [(type_identifier) (qualified_type)] @callee)) @inherit))
(interface_type (type_elem [(type_identifier) (qualified_type)] @callee) @inherit)
(parameter_declaration name: (identifier) @var type: (_) @type) @local
(var_spec name: (identifier) @var type: (_) @type) @local
(short_var_declaration left: (expression_list . (identifier) @var)
  right: (expression_list . (composite_literal type: (_) @ctor))) @local
(short_var_declaration left: (expression_list . (identifier) @var)
  right: (expression_list . (unary_expression operand: (composite_literal type: (_) @ctor)))) @local
((short_var_declaration left: (expression_list . (identifier) @var)
  right: (expression_list . (call_expression function: (identifier) @_new
                                             arguments: (argument_list . (_) @ctor))))
  (#eq? @_new "new")) @local
((short_var_declaration left: (expression_list . (identifier) @var)
  right: (expression_list . (call_expression function: (_) @value)))
  (#not-match? @value "^(new|make)$")) @local
((var_spec name: (identifier) @var !type
  value: (expression_list . (call_expression function: (_) @value)))
  (#not-match? @value "^(new|make)$")) @local
(short_var_declaration left: (expression_list . (identifier) @var)
  right: (expression_list . (type_assertion_expression type: (_) @type))) @local
(var_spec name: (identifier) @var !type
  value: (expression_list . (composite_literal type: (_) @ctor))) @local
(var_spec name: (identifier) @var !type
  value: (expression_list . (unary_expression operand: (composite_literal type: (_) @ctor)))) @local
; every binding of no written type: two bindings of one name in a function that disagree
; leave it untyped (engine.py, `_bind`)
(short_var_declaration left: (expression_list (identifier) @var)) @local
(range_clause left: (expression_list (identifier) @var)) @local
(type_switch_statement alias: (expression_list (identifier) @var)) @local
