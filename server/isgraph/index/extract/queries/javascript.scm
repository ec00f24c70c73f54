; References for JavaScript (see extract/engine.py for the capture roles).
(import_statement) @import
(export_statement) @import
(variable_declarator
  value: (call_expression
    function: (identifier) @_req
    arguments: (arguments (string)))
  (#eq? @_req "require")) @import
(call_expression function: (_) @callee) @call
(new_expression constructor: (_) @callee) @new
(class_heritage (identifier) @callee) @inherit
(class_heritage (member_expression) @callee) @inherit
(variable_declarator name: (identifier) @var value: (new_expression constructor: (_) @ctor)) @local
; CommonJS `exports.x = …`, `module.exports = …`, `module.exports.x = …` (lang/es5.py picks
; them out: a text predicate would decode invalid UTF-8 and raise)
(assignment_expression left: (member_expression object: (identifier))) @import
(assignment_expression
  left: (member_expression object: (member_expression object: (identifier)))) @import
