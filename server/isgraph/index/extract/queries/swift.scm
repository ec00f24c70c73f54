; References for Swift (see extract/engine.py for the capture roles).
(import_declaration) @import
(call_expression . (_) @callee) @call
(inheritance_specifier inherits_from: (_) @callee) @inherit
(property_declaration name: (pattern (simple_identifier) @var) value: (call_expression . (simple_identifier) @ctor)) @local
