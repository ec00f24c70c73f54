"""The PostgreSQL server the tests use: where it is, whether it is up, throwaway schemas.

``ISGRAPH_TEST_PG`` overrides the server (default: postgres@127.0.0.1:5432/test). When it is
unreachable, tests that need it skip with the reason, except under CI (``CI`` set and not
"false"/"0"), where they fail: a CI run must not pass by skipping its Postgres tests.
"""

from __future__ import annotations

import functools
import hashlib
import os
import uuid
from collections.abc import Iterator
from urllib.parse import urlencode

import psycopg
import pytest
from psycopg import sql

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/test"


def server_url() -> str:
    return os.environ.get("ISGRAPH_TEST_PG") or DEFAULT_URL


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() not in ("", "0", "false", "no")


@functools.cache
def _unreachable() -> str | None:
    try:
        with psycopg.connect(server_url(), connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        return " ".join(str(exc).split())[:200]
    return None


def require_postgres() -> None:
    """Skip (or, under CI, fail) the calling test when the server is unreachable."""
    why = _unreachable()
    if why is None:
        return
    msg = f"PostgreSQL at {server_url()} is unreachable ({why}); set ISGRAPH_TEST_PG"
    if in_ci():
        pytest.fail(f"{msg} (CI=true: Postgres tests must run)", pytrace=False)
    pytest.skip(msg)


def unique_schema(seed: str | None = None) -> str:
    token = hashlib.blake2b(seed.encode(), digest_size=6).hexdigest() if seed else None
    return f"isgt_{token or uuid.uuid4().hex[:12]}"


def pg_url(*, schema: str, repo: str) -> str:
    base = server_url()
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}{urlencode({'schema': schema, 'repo': repo})}"


def admin() -> psycopg.Connection[tuple[object, ...]]:
    return psycopg.connect(server_url(), autocommit=True, connect_timeout=3)


def drop_schema(schema: str) -> None:
    if _unreachable() is not None:
        return
    with admin() as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


@pytest.fixture
def schema() -> Iterator[str]:
    """A throwaway schema on the test server, dropped afterwards (the test skips, or fails
    under CI, when the server is unreachable). A test module uses it by importing it."""
    require_postgres()
    name = unique_schema()
    yield name
    drop_schema(name)
