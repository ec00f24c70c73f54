"""Hover text handling: LSP hover shapes, metadata from real servers' answers, name positions."""

from __future__ import annotations

import json

from lsprotocol import types

from isgraph.model import make_key
from isgraph.proxy.hover import markdown_of, merge, metadata_of, name_position, stored_hover
from tests.store.test_contract import ent

# Answers captured from the real servers (docs/downstream.md).
JEDI = (
    '```python\ndef helper(a: int, b: str="x") -> str\n```\n---\n'
    "Join a number and a string.\n**Full name:** `mod.helper`"
)
BASEDPYRIGHT = (
    '```python\n(function) def helper(\n    a: int,\n    b: str = "x"\n) -> str\n```\n---\n'
    "Join a number and a string."
)
CLANGD = (
    "### function `add`\n\n---\n→ `int`\n\nParameters:\n\n- `int a`\n- `int b`\n\n"
    "Adds two numbers.\n\n---\n```cpp\nint add(int a, int b)\n```"
)
TYPESCRIPT = "```typescript\nfunction double(n: number): number\n```\nDoubles a number."


def test_markdown_of_every_hover_shape() -> None:
    md = types.MarkupContent(kind=types.MarkupKind.Markdown, value="**b**")
    plain = types.MarkupContent(kind=types.MarkupKind.PlainText, value="a < b")
    marked = types.MarkedStringWithLanguage(language="python", value="x: int")
    assert markdown_of(types.Hover(contents=md)) == "**b**"
    assert markdown_of(types.Hover(contents=plain)) == "```\na < b\n```"
    assert markdown_of(types.Hover(contents=[marked, "doc"])) == "```python\nx: int\n```\n\ndoc"
    assert markdown_of(None) is None
    assert markdown_of(types.Hover(contents="  ")) is None


def test_metadata_from_real_answers() -> None:
    def meta(text: str) -> dict[str, object]:
        got = json.loads(metadata_of(text, "s"))
        assert got["hover"] == text and got["server"] == "s"
        return {k: got.get(k) for k in ("signature", "type")}

    assert meta(JEDI) == {"signature": 'def helper(a: int, b: str="x") -> str', "type": "str"}
    assert meta(BASEDPYRIGHT)["type"] == "str"
    assert meta(CLANGD) == {"signature": "int add(int a, int b)", "type": "int"}
    assert meta(TYPESCRIPT) == {
        "signature": "function double(n: number): number",
        "type": "number",
    }
    assert meta("```python\ncount: int\n```") == {"signature": "count: int", "type": "int"}
    assert json.loads(metadata_of(None, "s")) == {"hover": None, "server": "s"}
    assert stored_hover(metadata_of(JEDI, "s")) == JEDI
    assert stored_hover(metadata_of(None, "s")) is None and stored_hover("not json") is None


def test_merge() -> None:
    assert merge(["a", "", "b"], "facts") == "a\n\n---\n\nb\n\n---\n\nfacts"
    assert merge([], None) is None and merge([], "f") == "f"


def test_name_position() -> None:
    lines = [
        "class Ünïcode:",
        "    @value.setter",
        "    def value(self, v): ...",
        "    async def 𝒻(self): ...",  # noqa: RUF001 (an astral name: 2 UTF-16 units)
    ]
    cls = ent("m.py", "Ünïcode", "class", line=1)
    assert name_position(lines, cls) == (0, 6)
    setter = ent("m.py", "Ünïcode.value", "method", line=3, parent=cls.key)
    setter.start_col = 4  # `def` (the decorator is outside the node)
    assert name_position(lines, setter) == (2, 8)
    astral = ent("m.py", "Ünïcode.𝒻", "method", line=4, parent=cls.key)  # noqa: RUF001
    astral.start_col = 4
    assert name_position(lines, astral) == (3, 14)
    module = ent("m.py", "m", "module")
    assert module.key == make_key("python", "module", "m.py", "m")
    assert name_position(lines, module) is None
