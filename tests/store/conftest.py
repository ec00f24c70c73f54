"""One store contract suite, run against every backend (a new backend adds one param)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from isgraph.store.base import Store
from isgraph.store.connect import open_store

BACKENDS = ["mem", "sqlite", "rocksdb"]


def url_for(backend: str, tmp: Path) -> str:
    if backend == "mem":
        return "mem"
    return f"{backend}:{tmp / backend / ('index.db' if backend == 'sqlite' else 'db')}"


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def store(backend: str, tmp_path: Path) -> Iterator[Store]:
    s = open_store(url_for(backend, tmp_path))
    yield s
    s.close()
