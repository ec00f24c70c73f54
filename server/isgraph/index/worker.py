"""Per-file work done inside the process pool: read, hash, decode, parse, extract.

Never raises for a bad file: every outcome is a FileResult (indexed, skipped or error),
so one poisoned file can never take the pipeline down. Runs in worker processes because
py-tree-sitter holds the GIL while parsing.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import PurePosixPath

from isgraph.index.context import forget_tree
from isgraph.index.spool import pack, should_defer
from isgraph.index.stubs import STUB_PREFIX, is_external, stub_module
from isgraph.model import EdgeKind, FileResult, FileStatus

# A NUL byte in the first block is what git and ripgrep use to call a file binary.
_BINARY_SNIFF = 8192

_package_dirs: dict[str, bool] = {}  # per-process cache: directory -> has __init__.py
_tree_seen: list[int] = [0]  # the run whose tree the caches describe (see process_chunk)


@dataclass(slots=True, frozen=True)
class FileTask:
    """One file to process (picklable, small)."""

    relpath: str
    abspath: str
    language: str
    # Hash of the stored version, when one exists: equal content is not re-parsed.
    known_hash: str | None = None
    # The file's content as an editor holds it (an unsaved buffer): used instead of the disk.
    content: bytes | None = None


def _is_package(directory: str) -> bool:
    hit = _package_dirs.get(directory)
    if hit is None:
        hit = os.path.isfile(os.path.join(directory, "__init__.py"))
        _package_dirs[directory] = hit
    return hit


def python_module_name(root: str, relpath: str) -> str:
    """Dotted module name as Python would import it: climb while the parent is a package.

    ``src/pkg/mod.py`` with ``src/pkg/__init__.py`` (and no ``src/__init__.py``) is ``pkg.mod``,
    so src-layouts and test directories resolve the way their imports are written.
    """
    if relpath.startswith(STUB_PREFIX):
        return stub_module(relpath)
    parts = list(PurePosixPath(relpath).parts)
    stem = parts[-1].rsplit(".", 1)[0]
    dirs = parts[:-1]
    names: list[str] = [] if stem == "__init__" else [stem]
    while dirs and _is_package(os.path.join(root, *dirs)):
        names.insert(0, dirs.pop())
    if not names:  # an __init__.py at the root, or in a non-package dir
        names = [dirs[-1]] if dirs else [stem]
    return ".".join(names)


def process_file(root: str, task: FileTask, max_size: int, defer: bool = False) -> FileResult:
    """Read and extract one file; the result says why when nothing was extracted.

    ``defer``: calls that need cross-file resolution go to ``result.deferred`` (pickled, see
    `index.spool`) instead of ``result.edges``."""
    result = FileResult(path=task.relpath, language=task.language, status=FileStatus.INDEXED)
    if task.content is not None:
        # An editor's buffer. mtime 0 matches no file on disk, so the next run that meets
        # this path re-reads the disk instead of trusting the stored hash.
        data, result.mtime_ns = task.content[: max_size + 1], 0
    else:
        try:
            st = os.stat(task.abspath)
            result.size, result.mtime_ns = st.st_size, st.st_mtime_ns
            if st.st_size > max_size:
                return _skip(result, f"file too large ({st.st_size} bytes > limit {max_size})")
            with open(task.abspath, "rb") as fh:
                data = fh.read(max_size + 1)
        except FileNotFoundError:
            result.status, result.error = FileStatus.ERROR, "file disappeared before it was read"
            return result
        except OSError as exc:
            result.status, result.error = FileStatus.ERROR, f"cannot read: {exc.strerror or exc}"
            return result
    if len(data) > max_size:  # grew between stat and read
        return _skip(result, f"file too large (> limit {max_size} bytes)")
    result.size = len(data)
    result.content_hash = hashlib.blake2b(data, digest_size=16).hexdigest()
    if task.known_hash == result.content_hash:
        result.status = FileStatus.UNCHANGED
        return result
    if b"\x00" in data[:_BINARY_SNIFF]:
        return _skip(result, "binary file (NUL byte)")
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return _skip(result, f"not UTF-8 (invalid byte at offset {exc.start})")
    # Imported here, not with this module: the parent imports it (FileTask, process_chunk
    # by reference) and needs no extractor; the forkserver preloads them for the workers.
    from isgraph.index.extract.lang.specs import module_of
    from isgraph.index.extract.registry import EXTRACTORS

    extractor = EXTRACTORS.get(task.language)
    if extractor is None:
        return _skip(result, f"no extractor for {task.language}")
    if task.language == "python":
        module = python_module_name(root, task.relpath)
    else:
        module = module_of(root, task.relpath, task.language)
    try:
        extraction = extractor(task.relpath, data, module)
    except RecursionError:
        return _skip(result, "nesting too deep to extract")
    except Exception as exc:  # an extractor bug must not lose the rest of the run
        result.status, result.error = FileStatus.ERROR, f"extractor failed: {exc!r}"[:500]
        return result
    result.entities, result.edges, result.aliases = (
        extraction.entities,
        extraction.edges,
        extraction.aliases,
    )
    if is_external(task.relpath):
        # A stub's calls and imports serve its annotations; only its bases matter (methods
        # are looked up through them).
        result.edges = [e for e in result.edges if e.kind == EdgeKind.INHERITS]
    elif defer:
        held = [e for e in result.edges if should_defer(e)]
        if held:
            result.edges = [e for e in result.edges if not should_defer(e)]
            result.deferred, result.deferred_count = pack(held), len(held)
    result.error = extraction.syntax_error
    return result


def process_chunk(
    root: str, tasks: list[FileTask], max_size: int, defer: bool = False, tree: int = 0
) -> list[FileResult]:
    """Process several files in one pool round trip (amortizes IPC per task). ``tree``
    names the run: the tree facts this process cached (packages, project files) hold for one
    run only, since a pool outlives runs and the tree changes between them."""
    if tree != _tree_seen[0]:
        _tree_seen[0] = tree
        _package_dirs.clear()
        forget_tree()
    return [process_file(root, t, max_size, defer) for t in tasks]


def _skip(result: FileResult, reason: str) -> FileResult:
    result.status, result.error = FileStatus.SKIPPED, reason
    return result
