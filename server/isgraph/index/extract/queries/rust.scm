; References for Rust (see extract/engine.py for the capture roles).
(use_declaration) @import
(call_expression function: (_) @callee) @call
(impl_item trait: (_) @callee type: (_) @owner) @inherit
(trait_item bounds: (trait_bounds [(type_identifier) (scoped_type_identifier) (generic_type)] @callee)) @inherit
(let_declaration pattern: (identifier) @var type: (_) @type) @local
(parameter pattern: (identifier) @var type: (_) @type) @local
(let_declaration pattern: (identifier) @var
  value: (call_expression function: (scoped_identifier path: (_) @ctor name: (identifier) @_new))
  (#eq? @_new "new")) @local
(let_declaration pattern: (identifier) @var value: (struct_expression name: (_) @ctor)) @local
