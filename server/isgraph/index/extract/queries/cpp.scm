; References for C++ (see extract/engine.py for the capture roles).
(preproc_include) @import
(call_expression function: (_) @callee) @call
(new_expression type: (_) @callee) @new
(base_class_clause [(type_identifier) (qualified_identifier) (template_type)] @callee) @inherit
(declaration type: (_) @type declarator: (identifier) @var) @local
(declaration type: (_) @type declarator: (init_declarator declarator: (identifier) @var)) @local
(declaration type: (_) @type declarator: (pointer_declarator declarator: (identifier) @var)) @local
(declaration type: (_) @type declarator: (init_declarator declarator: (pointer_declarator declarator: (identifier) @var))) @local
(parameter_declaration type: (_) @type declarator: (identifier) @var) @local
(parameter_declaration type: (_) @type declarator: (pointer_declarator declarator: (identifier) @var)) @local
(parameter_declaration type: (_) @type declarator: (reference_declarator (identifier) @var)) @local
