; References for Swift (see extract/engine.py for the capture roles).
(import_declaration) @import
(call_expression . (_) @callee) @call
(inheritance_specifier inherits_from: (_) @callee) @inherit
