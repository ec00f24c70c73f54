; References for C (see extract/engine.py for the capture roles).
(preproc_include) @import
(call_expression function: (_) @callee) @call
