"""Language extractors: ``EXTRACTORS[language](path, source, module) -> Extraction``.

Python has its own extractor (``python.py``); the languages with a spec in ``lang/`` run the
shared query engine (``engine.py``: entities, calls, imports, inheritance, candidates); any
other language with a node-type table gets definitions only (``definitions.py``).
"""

from __future__ import annotations

from collections.abc import Callable

from isgraph.index.extract.base import Extraction
from isgraph.index.extract.definitions import extract_definitions
from isgraph.index.extract.engine import LangSpec, extract_with
from isgraph.index.extract.lang.specs import SPECS
from isgraph.index.extract.python import extract_python
from isgraph.index.languages import LANGUAGES

Extractor = Callable[[str, bytes, str], Extraction]


def _definitions_only(language: str) -> Extractor:
    def extract(path: str, source: bytes, module: str) -> Extraction:
        return extract_definitions(language, path, source)

    return extract


def _engine(spec: LangSpec) -> Extractor:
    def extract(path: str, source: bytes, module: str) -> Extraction:
        return extract_with(spec, path, source, module)

    return extract


# Keyed by exactly `languages.LANGUAGES` (every language gets at least its definitions), which
# is what the parent process checks instead of importing this module.
EXTRACTORS: dict[str, Extractor] = {
    **{language: _definitions_only(language) for language in LANGUAGES},
    **{language: _engine(spec) for language, spec in SPECS.items()},
    "python": extract_python,
}

__all__ = ["EXTRACTORS", "Extraction", "Extractor"]
