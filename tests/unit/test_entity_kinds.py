"""`model.ENTITY_KINDS` (what `isgraph symbols --kind` accepts) holds every kind an extractor
emits: a kind added to a table without it would be refused as a usage error."""

from __future__ import annotations

import re
from pathlib import Path

from isgraph.index.extract.definitions import KINDS
from isgraph.model import ENTITY_KINDS

EXTRACT = Path(__file__).resolve().parents[2] / "server" / "isgraph" / "index" / "extract"


def test_every_table_kind_is_known() -> None:
    for language, table in KINDS.items():
        assert set(table.values()) <= ENTITY_KINDS, (language, set(table.values()) - ENTITY_KINDS)


def test_every_kind_written_in_an_extractor_is_known() -> None:
    """Kinds the extractors set in code (Python's, the languages' `refine`)."""
    text = "\n".join(p.read_text() for p in EXTRACT.rglob("*.py"))
    written = set(re.findall(r'kind(?:=| = )"([a-z]+)"', text))
    written |= set(re.findall(r'return "([a-z]+)"\n', text)) & {"function", "constant"}
    assert written and written <= ENTITY_KINDS, written - ENTITY_KINDS
