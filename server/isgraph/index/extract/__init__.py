"""Language extractors: ``EXTRACTORS[language](path, source, module) -> Extraction``."""

from __future__ import annotations

from collections.abc import Callable

from isgraph.index.extract.base import Extraction
from isgraph.index.extract.definitions import KINDS, extract_definitions
from isgraph.index.extract.python import extract_python

Extractor = Callable[[str, bytes, str], Extraction]


def _definitions_only(language: str) -> Extractor:
    def extract(path: str, source: bytes, module: str) -> Extraction:
        return extract_definitions(language, path, source)

    return extract


# Python has a full extractor (entities, calls, imports, inheritance, resolution candidates);
# the other languages get definitions only until theirs land.
EXTRACTORS: dict[str, Extractor] = {
    "python": extract_python,
    **{language: _definitions_only(language) for language in KINDS},
}

__all__ = ["EXTRACTORS", "Extraction", "Extractor"]
