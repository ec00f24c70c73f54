"""Connection string -> Store.

``mem`` | ``sqlite:PATH`` | ``rocksdb:PATH`` (embedded CozoDB) | ``postgresql://…`` (or
``postgres://…``; ``?repo=NAME`` picks the namespace, default the root directory's name).
``None`` means the embedded default under the workspace: ``sqlite:<root>/.isgraph/index.db``.
SQLite is the default engine because the language server and a terminal query must be able
to open the same store at once, which RocksDB's single-process LOCK forbids.
"""

from __future__ import annotations

import logging
from pathlib import Path

from isgraph.store.base import SchemaMismatchError, Store, StoreError
from isgraph.store.names import SUFFIX as NAMES_SUFFIX

log = logging.getLogger(__name__)

ACCEPTED = "mem, sqlite:PATH, rocksdb:PATH or postgresql://…"
EMBEDDED_ENGINES = ("sqlite", "rocksdb")  # CozoDB engines that live in a file
# The workspace's own directory: the embedded store, and never indexed. Defined here (not in
# the pipeline) so that a query finds its store without importing the indexing machinery.
INDEX_DIR_NAME = ".isgraph"


def default_store_url(root: Path) -> str:
    return f"sqlite:{root / INDEX_DIR_NAME / 'index.db'}"


def anchored(url: str, base: Path) -> str:
    """``url`` with a relative embedded store path (``sqlite:PATH``, ``rocksdb:PATH``) made
    absolute against ``base``: a path written in a configuration file means a place in that
    file's project, wherever isgraph is started from. Other URLs are returned as they are."""
    engine, sep, path = url.partition(":")
    if not (sep and engine in EMBEDDED_ENGINES and path):
        return url
    resolved = Path(path).expanduser()
    return url if resolved.is_absolute() else f"{engine}:{base / resolved}"


def default_repo(root: Path | None) -> str:
    """A shared store's namespace when the URL names none: the workspace directory's name."""
    return (root or Path.cwd()).resolve().name or "default"


def open_store(url: str | None, root: Path | None = None, *, rebuild: bool = False) -> Store:
    """Open (creating if needed) the store a connection string names.

    ``rebuild``: for the embedded default (``url`` None) only, a store written by another
    version of isgraph (schema mismatch) is deleted and created anew: it is a cache of the
    workspace, and the caller (an index run, the language server) is about to fill it. A store
    named explicitly is never deleted."""
    if url is None:
        default = default_store_url((root or Path.cwd()).resolve())
        try:
            return open_store(default)
        except SchemaMismatchError as exc:
            if not rebuild:
                raise
            db = Path(default.partition(":")[2])
            log.warning("%s; rebuilding the embedded index %s", exc, db)
            for suffix in ("", "-wal", "-shm", NAMES_SUFFIX):
                f = db.with_name(db.name + suffix)
                f.unlink(missing_ok=True)
            return open_store(default)
    if url.startswith(("postgresql://", "postgres://")):
        from isgraph.store.postgres import PostgresStore  # the only importer of psycopg

        return PostgresStore(url, default_repo=default_repo(root))
    from isgraph.store.cozo import CozoStore  # the only importer of pycozo

    if url == "mem":
        return CozoStore("mem")
    engine, sep, path = url.partition(":")
    if sep and engine in EMBEDDED_ENGINES and path:
        return CozoStore(engine, str(Path(path).expanduser().resolve()))
    raise StoreError(f"unknown store {url!r}: expected {ACCEPTED}")
