"""Connection string -> Store.

``mem`` | ``sqlite:PATH`` | ``rocksdb:PATH`` (embedded CozoDB) | ``postgresql://…``.
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


def open_store(url: str | None, root: Path | None = None) -> Store:
    """Open (creating if needed) the store a connection string names."""
    if url is None:
        url = default_store_url((root or Path.cwd()).resolve())
    from isgraph.store.cozo import CozoStore  # the only importer of pycozo

    if url == "mem":
        return CozoStore("mem")
    if url.startswith(("postgresql://", "postgres://")):
        raise StoreError("the PostgreSQL backend is not implemented yet; use " + ACCEPTED)
    engine, sep, path = url.partition(":")
    if sep and engine in ("sqlite", "rocksdb") and path:
        return CozoStore(engine, str(Path(path).expanduser().resolve()))
    raise StoreError(f"unknown store {url!r}: expected {ACCEPTED}")
