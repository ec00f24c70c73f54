"""Connection string -> Store.

``mem`` | ``sqlite:PATH`` | ``rocksdb:PATH`` (embedded CozoDB) | ``postgresql://…`` (or
``postgres://…``; ``?repo=NAME`` picks the namespace, default the root directory's name).
``None`` means the embedded default under the workspace: ``sqlite:<root>/.isgraph/index.db``.
SQLite is the default engine because the language server and a terminal query must be able
to open the same store at once, which RocksDB's single-process LOCK forbids.
"""

from __future__ import annotations

from pathlib import Path

from isgraph.store.base import Store, StoreError

ACCEPTED = "mem, sqlite:PATH, rocksdb:PATH or postgresql://…"


def default_store_url(root: Path) -> str:
    return f"sqlite:{root / '.isgraph' / 'index.db'}"


def default_repo(root: Path | None) -> str:
    """A shared store's namespace when the URL names none: the workspace directory's name."""
    return (root or Path.cwd()).resolve().name or "default"


def open_store(url: str | None, root: Path | None = None) -> Store:
    """Open (creating if needed) the store a connection string names."""
    if url is None:
        url = default_store_url((root or Path.cwd()).resolve())
    if url.startswith(("postgresql://", "postgres://")):
        from isgraph.store.postgres import PostgresStore  # the only importer of psycopg

        return PostgresStore(url, default_repo=default_repo(root))
    from isgraph.store.cozo import CozoStore  # the only importer of pycozo

    if url == "mem":
        return CozoStore("mem")
    engine, sep, path = url.partition(":")
    if sep and engine in ("sqlite", "rocksdb") and path:
        return CozoStore(engine, str(Path(path).expanduser().resolve()))
    raise StoreError(f"unknown store {url!r}: expected {ACCEPTED}")
