"""Definitions of every language through its real extractor (the shared engine for the
eleven, ``definitions.py``'s tables underneath): one fixture each. Edges are asserted in
tests/pipeline/test_langs.py.

Expected entities are written out: (kind, qualified name, parent's qualified name or "" for
the file). A method defined outside its type (Go receivers, C++ `A::m`, Rust impl blocks,
Swift extensions) has the type as its parent when the file defines the type, else the file.
"""

from __future__ import annotations

import pytest

from isgraph.index.extract.definitions import extract_definitions
from isgraph.index.extract.registry import EXTRACTORS

SOURCES: dict[str, tuple[str, str]] = {
    "javascript": (
        "a.js",
        """\
import { x } from "./b.js";
export function foo(a, b) { return bar(a); }
class Animal extends Base { constructor() { super(); } speak() { this.walk(); } }
const arrow = (x) => x * 2;
""",
    ),
    "typescript": (
        "a.ts",
        """\
import { x } from "./b.js";
export function foo(a, b) { return bar(a); }
class Animal extends Base { constructor() { super(); } speak() { this.walk(); } }
const arrow = (x) => x * 2;
interface Shape { area(): number; }
type Alias = string;
enum Color { Red }
namespace NS { export function inner() {} }
abstract class Abs implements Shape { area(): number { return 1; } }
""",
    ),
    "go": (
        "a.go",
        """\
package main
import "fmt"
type Point struct { X int }
type Shape interface { Area() float64 }
func (p *Point) Move(dx int) { fmt.Println(dx) }
func main() { p := Point{}; p.Move(1) }
const Pi = 3.14
""",
    ),
    "rust": (
        "a.rs",
        """\
mod inner { pub fn f() {} }
use std::fmt;
pub struct Point { x: i32 }
enum E { A }
trait T { fn t(&self); }
impl T for Point { fn t(&self) { helper(); } }
impl Point { pub fn new() -> Self { Point { x: 0 } } }
fn helper() {}
const MAX: u32 = 1;
type Alias = u32;
""",
    ),
    "java": (
        "A.java",
        """\
package com.x;
import java.util.List;
public class A extends B implements I { public A() {} void run() { go(); } class Inner {} }
interface I { void run(); }
enum E { X }
""",
    ),
    "c": (
        "a.c",
        """\
#include "a.h"
struct point { int x; };
typedef struct point point_t;
enum color { RED };
static int helper(int x) { return x; }
int main(void) { return helper(1); }
""",
    ),
    "cpp": (
        "a.cpp",
        """\
#include <vector>
namespace ns { class Foo : public Bar { public: void m(); int n() { return 1; } }; }
void ns::Foo::m() { n(); }
struct S { int x; };
template <typename T> T id(T x) { return x; }
""",
    ),
    "ruby": (
        "a.rb",
        """\
require_relative "b"
module M
  class C < Base
    def m; helper; end
    def self.k; end
  end
end
def top; end
""",
    ),
    "php": (
        "a.php",
        """\
<?php
namespace App;
use Foo\\Bar;
class C extends B implements I { public function m() { $this->n(); } }
interface I { public function m(); }
trait T { function t() {} }
function f() { return 1; }
""",
    ),
    "csharp": (
        "a.cs",
        """\
using System;
namespace N {
    public class C : B, I { public C() {} public void M() { N(); } }
    interface I { void M(); }
    struct S {}
    enum E { A }
}
""",
    ),
    "swift": (
        "a.swift",
        """\
import Foundation
class C: B {
  func m() { n() }
  init() {}
}
struct S { func f() {} }
protocol P { func p() }
enum E { case a }
extension C { func ext() {} }
func top() {}
""",
    ),
}

EXPECTED: dict[str, list[tuple[str, str, str]]] = {
    "javascript": [
        ("function", "foo", ""),
        ("class", "Animal", ""),
        ("method", "Animal.constructor", "Animal"),
        ("method", "Animal.speak", "Animal"),
        ("function", "arrow", ""),
    ],
    "typescript": [
        ("function", "foo", ""),
        ("class", "Animal", ""),
        ("method", "Animal.constructor", "Animal"),
        ("method", "Animal.speak", "Animal"),
        ("function", "arrow", ""),
        ("interface", "Shape", ""),
        ("method", "Shape.area", "Shape"),
        ("type", "Alias", ""),
        ("enum", "Color", ""),
        ("namespace", "NS", ""),
        ("function", "NS.inner", "NS"),
        ("class", "Abs", ""),
        ("method", "Abs.area", "Abs"),
    ],
    "go": [
        ("struct", "Point", ""),
        ("interface", "Shape", ""),
        ("method", "Shape.Area", "Shape"),
        ("method", "Point.Move", "Point"),
        ("function", "main", ""),
    ],
    "rust": [
        ("module", "inner", ""),
        ("function", "inner.f", "inner"),
        ("struct", "Point", ""),
        ("enum", "E", ""),
        ("trait", "T", ""),
        ("method", "T.t", "T"),
        ("method", "Point.t", "Point"),
        ("method", "Point.new", "Point"),
        ("function", "helper", ""),
        ("constant", "MAX", ""),
        ("type", "Alias", ""),
    ],
    "java": [
        ("class", "A", ""),
        ("method", "A.A", "A"),
        ("method", "A.run", "A"),
        ("class", "A.Inner", "A"),
        ("interface", "I", ""),
        ("method", "I.run", "I"),
        ("enum", "E", ""),
    ],
    "c": [
        ("struct", "point", ""),
        ("type", "point_t", ""),
        ("enum", "color", ""),
        ("function", "helper", ""),
        ("function", "main", ""),
    ],
    "cpp": [
        ("namespace", "ns", ""),
        ("class", "ns.Foo", "ns"),
        ("method", "ns.Foo.n", "ns.Foo"),
        ("method", "ns.Foo.m", "ns.Foo"),
        ("struct", "S", ""),
        ("function", "id", ""),
    ],
    "ruby": [
        ("module", "M", ""),
        ("class", "M.C", "M"),
        ("method", "M.C.m", "M.C"),
        ("method", "M.C.k", "M.C"),
        ("method", "top", ""),
    ],
    "php": [
        ("class", "C", ""),
        ("method", "C.m", "C"),
        ("interface", "I", ""),
        ("method", "I.m", "I"),
        ("trait", "T", ""),
        ("method", "T.t", "T"),
        ("function", "f", ""),
    ],
    "csharp": [
        ("namespace", "N", ""),
        ("class", "N.C", "N"),
        ("method", "N.C.C", "N.C"),
        ("method", "N.C.M", "N.C"),
        ("interface", "N.I", "N"),
        ("method", "N.I.M", "N.I"),
        ("struct", "N.S", "N"),
        ("enum", "N.E", "N"),
    ],
    "swift": [
        ("class", "C", ""),
        ("method", "C.m", "C"),
        ("method", "C.init", "C"),
        ("struct", "S", ""),
        ("method", "S.f", "S"),
        ("interface", "P", ""),
        ("method", "P.p", "P"),
        ("enum", "E", ""),
        ("method", "C.ext", "C"),
        ("function", "top", ""),
    ],
}


@pytest.mark.parametrize("language", sorted(EXPECTED))
def test_definitions_per_language(language: str) -> None:
    path, source = SOURCES[language]
    x = EXTRACTORS[language](path, source.encode(), "")
    assert x.syntax_error is None
    module, *ents = x.entities
    assert module.kind == "module" and module.parent is None
    by_key = {e.key: e for e in x.entities}
    got = [
        (e.kind, e.qualname, "" if e.parent == module.key else by_key[e.parent or ""].qualname)
        for e in ents
    ]
    assert got == EXPECTED[language]
    assert len(by_key) == len(x.entities)  # keys are unique
    assert all(e.language == language and e.path == path for e in x.entities)
    assert all(1 <= e.start_line <= e.end_line for e in ents)


def test_every_target_language_has_an_extractor() -> None:
    wanted = {"python", "javascript", "typescript", "tsx", "go", "rust", "java", "c", "cpp"}
    wanted |= {"ruby", "php", "csharp", "swift"}
    assert wanted <= set(EXTRACTORS)


def test_signatures_and_lines() -> None:
    path, source = SOURCES["go"]
    ents = {e.qualname: e for e in extract_definitions("go", path, source.encode()).entities}
    assert ents["Point.Move"].signature == "(dx int)"
    assert ents["Point.Move"].start_line == 5 and ents["Point.Move"].end_line == 5
    path, source = SOURCES["c"]
    ents = {e.qualname: e for e in extract_definitions("c", path, source.encode()).entities}
    assert ents["helper"].signature == "(int x)"


@pytest.mark.parametrize("language", sorted(EXPECTED))
def test_broken_source_keeps_what_parsed(language: str) -> None:
    path, source = SOURCES[language]
    broken = source + "\n}}} (( <<< @@@ \x00 ]]\n"
    x = EXTRACTORS[language](path, broken.encode(), "")
    assert x.syntax_error is not None
    assert len(x.entities) >= 2  # the module and at least the first definition
    assert len({e.key for e in x.entities}) == len(x.entities)


def test_ruby_module_named_like_its_file_keeps_keys_unique() -> None:
    x = extract_definitions("ruby", "m.rb", b"module m\n  def f; end\nend\n")
    assert len({e.key for e in x.entities}) == len(x.entities)


def test_other_grammars_get_definitions_through_the_generic_path() -> None:
    from isgraph.index.languages import language_for

    assert [language_for(p) for p in ("a.kt", "a.scala", "a.lua", "a.sh", "a.jl")] == [
        "kotlin",
        "scala",
        "lua",
        "bash",
        "julia",
    ]
    cases = {
        "kotlin": (b"class Foo { fun bar(x: Int): Int { return x } }\nfun top() {}\n", "a.kt"),
        "scala": (b"object M { def f(x: Int) = x }\ntrait T\n", "a.scala"),
        "lua": (b"function f(a) return a end\nlocal function g() end\n", "a.lua"),
    }
    got = {}
    for language, (source, path) in cases.items():
        x = EXTRACTORS[language](path, source, "")
        got[language] = [(e.kind, e.qualname) for e in x.entities[1:]]
        assert x.edges == []  # definitions only
    assert got == {
        "kotlin": [("class", "Foo"), ("method", "Foo.bar"), ("function", "top")],
        "scala": [("class", "M"), ("method", "M.f"), ("trait", "T")],
        "lua": [("function", "f"), ("function", "g")],
    }


def test_every_language_has_an_extractor_and_no_other() -> None:
    """The parent decides which files to parse by `languages.LANGUAGES` without importing
    the extractors (`pipeline`): the registry must cover exactly those."""
    from isgraph.index.languages import LANGUAGES

    assert set(EXTRACTORS) == LANGUAGES
