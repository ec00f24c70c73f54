"""One store contract suite, run against every backend (a new backend adds one param)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from isgraph.store.base import Store
from isgraph.store.connect import open_store
from tests.pg import drop_schema, pg_url, require_postgres, unique_schema

BACKENDS = ["mem", "sqlite", "rocksdb", "postgres"]

# Schemas handed out by url_for in the running test; dropped when it ends.
_SCHEMAS: list[str] = []


def url_for(backend: str, tmp: Path) -> str:
    if backend == "mem":
        return "mem"
    if backend == "postgres":
        require_postgres()
        # One schema per (test, tmp dir): a second call in one test reopens the same store.
        schema = unique_schema(str(tmp))
        if schema not in _SCHEMAS:
            _SCHEMAS.append(schema)
        return pg_url(schema=schema, repo="contract")
    return f"{backend}:{tmp / backend / ('index.db' if backend == 'sqlite' else 'db')}"


@pytest.fixture(autouse=True)
def _drop_pg_schemas() -> Iterator[None]:
    yield
    while _SCHEMAS:
        drop_schema(_SCHEMAS.pop())


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def store(backend: str, tmp_path: Path) -> Iterator[Store]:
    s = open_store(url_for(backend, tmp_path))
    yield s
    s.close()
