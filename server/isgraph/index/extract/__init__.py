"""Language extractors: ``EXTRACTORS[language](path, source, module) -> Extraction``."""

from __future__ import annotations

from collections.abc import Callable

from isgraph.index.extract.base import Extraction
from isgraph.index.extract.python import extract_python

Extractor = Callable[[str, bytes, str], Extraction]

EXTRACTORS: dict[str, Extractor] = {
    "python": extract_python,
}

__all__ = ["EXTRACTORS", "Extraction", "Extractor"]
