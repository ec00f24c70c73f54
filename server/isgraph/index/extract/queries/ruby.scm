; References for Ruby (see extract/engine.py for the capture roles).
((call method: (identifier) @_m arguments: (argument_list . (string)))
  (#any-of? @_m "require" "require_relative")) @import
(call receiver: (_)? @recv method: (identifier) @name) @call
(superclass [(constant) (scope_resolution)] @callee) @inherit
((call method: (identifier) @_m arguments: (argument_list [(constant) (scope_resolution)] @callee))
  (#any-of? @_m "include" "extend" "prepend")) @inherit
((assignment left: (identifier) @var right: (call receiver: [(constant) (scope_resolution)] @ctor method: (identifier) @_new))
  (#eq? @_new "new")) @local
