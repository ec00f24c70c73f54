"""ES5-style JavaScript definitions (``extract/lang/es5.py``): what is and is not a
definition, where the calls inside an assigned value belong, and keys that stay unique."""

from __future__ import annotations

from isgraph.index.extract.base import Extraction
from isgraph.index.extract.registry import EXTRACTORS


def _extract(src: str) -> Extraction:
    return EXTRACTORS["javascript"]("m.js", src.encode(), "")


def _defs(src: str) -> list[tuple[str, str]]:
    return [(e.kind, e.qualname) for e in _extract(src).entities[1:]]


def test_prototype_and_static_members_belong_to_the_constructor() -> None:
    out = _extract(
        "function Foo() { this.init(); }\n"
        "Foo.prototype.init = function init() { return this.size(); };\n"
        "Foo.prototype.size = sizeOf;\n"
        "Foo.make = function () { return new Foo(); };\n"
        "function sizeOf() { return 0; }\n"
    )
    ents = {e.qualname: e for e in out.entities}
    assert sorted((e.kind, q) for q, e in ents.items() if e.kind != "module") == [
        ("function", "Foo"),
        ("function", "sizeOf"),
        ("method", "Foo.init"),  # the named function expression is not a second definition
        ("method", "Foo.make"),
        ("method", "Foo.size"),
    ]
    foo = ents["Foo"]
    assert {ents[q].parent for q in ("Foo.init", "Foo.size", "Foo.make")} == {foo.key}
    calls = {(e.src.rsplit(":", 1)[1], e.target_name): e.dst for e in out.edges}
    # `this` in the constructor and in a prototype method is an instance of Foo
    assert calls[("Foo", "this.init")] == ents["Foo.init"].key
    assert calls[("Foo.init", "this.size")] == ents["Foo.size"].key


def test_the_value_of_a_borrowed_method_is_computed_by_the_enclosing_code() -> None:
    out = _extract("function setup(P) {\n  P.prototype.run = make();\n}\nfunction make() {}\n")
    assert ("method", "P.run") in [(e.kind, e.qualname) for e in out.entities]
    [call] = [e for e in out.edges if e.target_name == "make"]
    assert call.src.endswith(":setup")


def test_object_literals_bound_to_a_name_define_their_members_others_do_not() -> None:
    assert _defs(
        "var api = { get: function () {}, nested: { put() {} }, n: 1 };\n"
        "run({ success: function () {} });\n"
        "function f() { return { then: function () {} }; }\n"
        "function g() { this.cache = {}; obj.list[0] = function () {}; }\n"
    ) == [
        ("constant", "api"),
        ("method", "api.get"),
        ("constant", "api.nested"),
        ("method", "api.nested.put"),
        ("function", "f"),
        ("function", "g"),
    ]


def test_commonjs_exports_are_names_of_the_module() -> None:
    out = _extract(
        "function impl() {}\n"
        "exports.a = function () {};\n"
        "exports.b = impl;\n"
        "module.exports.c = function () {};\n"
        "exports.d = (function (x) { return x; });\n"  # TypeScript's exported arrow function
        "exports.e = (impl);\n"
    )
    assert [(e.kind, e.fqn) for e in out.entities[1:]] == [
        ("function", "m.impl"),
        ("function", "m.a"),
        ("function", "m.c"),
        ("function", "m.d"),
    ]
    assert [(a.fqn, a.target) for a in out.aliases] == [("m.b", "m.impl")]


def test_an_export_under_another_name_binds_nothing_here() -> None:
    out = _extract("function format() {}\nfunction impl() {}\nexports.format = impl;\nformat();\n")
    [call] = [e for e in out.edges if e.target_name == "format"]
    assert call.dst is not None and call.dst.endswith(":format")
    assert [(a.fqn, a.target) for a in out.aliases] == [("m.format", "m.impl")]


def test_module_exports_of_a_constructor_is_the_default_and_lends_its_members() -> None:
    out = _extract("function Hash() {}\nHash.from = function () {};\nmodule.exports = Hash;\n")
    assert sorted((a.fqn, a.target) for a in out.aliases) == [
        ("m.*", "m.Hash"),
        ("m.default", "m.Hash"),
    ]


def test_an_iife_bound_to_a_name_is_a_function_only_when_it_returns_one() -> None:
    assert _defs(
        "var make = (function () { function inner() {} return inner; }());\n"
        "var later = (function () { var f = function () {}; return f; })();\n"
        "var key = (function () { return 'k'; }());\n"
        "var tick = (function () { t = function () {}; if (x) return null; return t; })();\n"
    ) == [
        ("function", "make"),
        ("function", "inner"),
        ("function", "later"),
        ("function", "f"),
        ("function", "tick"),
        ("function", "t"),  # `t = function…`: a global, as before
    ]


def test_members_defined_twice_keep_unique_keys() -> None:
    out = _extract(
        "function A() {}\n"
        "A.prototype.m = function () {};\n"
        "A.m = function () {};\n"
        "if (x) { A.prototype.m = function () {}; }\n"
    )
    keys = [e.key for e in out.entities]
    assert len(keys) == len(set(keys))
    assert [e.qualname for e in out.entities if e.kind == "method"] == ["A.m"] * 3
