; References for C++ (see extract/engine.py for the capture roles).
(preproc_include) @import
(call_expression function: (_) @callee) @call
(new_expression type: (_) @callee) @new
(base_class_clause [(type_identifier) (qualified_identifier) (template_type)] @callee) @inherit
