; References for Rust (see extract/engine.py for the capture roles).
(use_declaration) @import
(call_expression function: (_) @callee) @call
(impl_item trait: (_) @callee type: (_) @owner) @inherit
(trait_item bounds: (trait_bounds [(type_identifier) (scoped_type_identifier) (generic_type)] @callee)) @inherit
