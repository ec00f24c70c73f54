; References for C# (see extract/engine.py for the capture roles).
(file_scoped_namespace_declaration name: (_) @name) @package
(using_directive) @import
(invocation_expression function: (_) @callee) @call
(object_creation_expression type: (_) @callee) @new
(base_list [(identifier) (qualified_name) (generic_name)] @callee) @inherit
