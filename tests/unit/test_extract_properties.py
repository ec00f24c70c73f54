"""Property tests on every extractor: arbitrary bytes and mutated real source never raise,
keys stay unique, ranges stay inside the file, edges leave extracted entities.

Examples are derandomized (same inputs every run) and few per language, so the whole module
runs in well under a minute; ``test_extract_python.py`` goes deeper on Python.
"""

from __future__ import annotations

import sysconfig
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from isgraph.index.extract.base import Extraction
from isgraph.index.extract.registry import EXTRACTORS
from isgraph.index.languages import LANGUAGE_BY_EXTENSION
from tests.reliability import record

FIXTURES = Path(__file__).parents[1] / "fixtures" / "langs"
LANGUAGES = sorted(EXTRACTORS)
PROPS = settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
_checked: dict[str, int] = {}
# Languages of the generic, definitions-only path have no fixture project: a small real-looking
# file each is the seed that mutation starts from.
SNIPPETS = {
    "bash": b'greet() {\n  echo "hi $1"\n}\nfunction main { greet x; }\n',
    "dart": b"class Shape {\n  double area() => 0;\n}\nvoid main() { Shape().area(); }\n",
    "julia": b"module Geo\nstruct P x::Int end\nfunction area(p::P)\n  p.x\nend\nend\n",
    "kotlin": b"package geo\nclass Shape { fun area(): Int = 0 }\nfun main() { Shape().area() }\n",
    "lua": b"local M = {}\nfunction M.area(w, h)\n  return w * h\nend\nreturn M\n",
    "nim": b"type Shape = object\n  w: int\nproc area(s: Shape): int =\n  s.w\n",
    "ocaml": b"module Geo = struct\n  let area w h = w * h\nend\nlet () = ignore (Geo.area 1 2)\n",
    "r": b"area <- function(w, h) {\n  w * h\n}\nprint(area(1, 2))\n",
    "scala": b"object Geo {\n  class Shape { def area: Int = 0 }\n  def main(): Unit = ()\n}\n",
    "solidity": b"contract Shop {\n  function pay(uint x) public returns (uint) { return x; }\n}\n",
}


def sample(language: str) -> tuple[str, bytes]:
    """The largest real source file of ``language``: the fixtures, or the stdlib for Python."""
    if language == "python":
        path = Path(sysconfig.get_paths()["stdlib"]) / "json" / "decoder.py"
        return "json/decoder.py", path.read_bytes()
    files = [
        p
        for p in FIXTURES.rglob("*")
        if p.is_file() and LANGUAGE_BY_EXTENSION.get(p.suffix) == language
    ]
    if not files and language in SNIPPETS:
        return f"snippet.{language}", SNIPPETS[language]
    assert files, f"no fixture file for {language}"
    best = max(files, key=lambda p: p.stat().st_size)
    return best.relative_to(FIXTURES).as_posix(), best.read_bytes()


SAMPLES = {language: sample(language) for language in LANGUAGES}


@pytest.fixture(scope="module", autouse=True)
def _record_counts() -> Iterator[None]:
    """After the module: how many examples ran, for docs/reliability.md (a failing example
    fails its own test, so what is recorded here all passed)."""
    yield
    if _checked:
        record(
            "extractor_properties",
            languages=len(_checked),
            examples=sum(_checked.values()),
            failures=0,
        )


def check(x: Extraction, source: bytes, path: str) -> None:
    """The invariants the store relies on."""
    keys = [e.key for e in x.entities]
    assert len(keys) == len(set(keys)), "duplicate keys"
    n_lines = source.count(b"\n") + 1
    longest = max((len(line) for line in source.split(b"\n")), default=0)
    for e in x.entities:
        assert e.path == path
        assert 1 <= e.start_line <= e.end_line <= n_lines + 1, e
        assert 0 <= e.start_col <= longest + 1 and 0 <= e.end_col <= longest + 1, e
        assert e.start_line < e.end_line or e.start_col <= e.end_col, e
    entity_keys = set(keys)
    for g in x.edges:
        assert g.src in entity_keys, g
        assert 1 <= g.line <= n_lines + 1, g


def run(language: str, path: str, data: bytes) -> None:
    x = EXTRACTORS[language](path, data, "m")
    check(x, data, path)
    _checked[language] = _checked.get(language, 0) + 1


def path_for(language: str) -> str:
    ext = next(e for e, lang in LANGUAGE_BY_EXTENSION.items() if lang == language)
    return f"src/f{ext}"


@pytest.mark.parametrize("language", LANGUAGES)
@PROPS
@given(data=st.binary(max_size=300))
def test_arbitrary_bytes_never_raise(language: str, data: bytes) -> None:
    run(language, path_for(language), data)


@pytest.mark.parametrize("language", LANGUAGES)
@PROPS
@given(at=st.floats(0, 1), cut=st.integers(0, 120), insert=st.binary(max_size=24))
def test_mutated_real_source_never_raises(
    language: str, at: float, cut: int, insert: bytes
) -> None:
    path, source = SAMPLES[language]
    i = int(at * len(source))
    run(language, path, source[:i] + insert + source[i + cut :])


@pytest.mark.parametrize("language", LANGUAGES)
@PROPS
@given(
    tokens=st.lists(
        st.sampled_from(
            [
                "{",
                "}",
                "(",
                ")",
                "[",
                "]",
                "\n",
                ";",
                "class X",
                "def f",
                "function g",
                "fn h",
                '"',
                "'",
                "/*",
                "*/",
                "#",
                "\\",
                "\x00",
                "\r",
                "<",
                ">",
                "=>",
                ":",
            ]
        ),
        max_size=80,
    )
)
def test_token_soup_never_raises(language: str, tokens: list[str]) -> None:
    """Structured garbage reaches deeper into the grammars than random bytes do."""
    run(language, path_for(language), "".join(tokens).encode())
