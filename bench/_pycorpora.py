"""Real Python corpora from PyPI for the scaling figures of `index_bench.py --suite`.

Issue 19 asks for linear scaling measured on *different* real projects (copies of one corpus
make every name ambiguous, which is not what a large repository looks like). The wheels below
are pure-Python (sqlalchemy's carries optional C speed-ups; only its `.py` files count), pinned
so that every run measures the same code, and fetched with `pip download` from the package
registry (the only network this project's machines have).

- ``django``: Django 5.2.9 (883 `.py` files), the issue's second corpus.
- ``mixed``: CPython's stdlib (1,792 files, 32 MB) plus eleven packages (6,281 files, ~95 MB):
  ~8,000 files and ~4x the stdlib's source bytes.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from _common import IGNORE, default_corpus

DJANGO = "django==5.2.9"
MIXED = (
    DJANGO,
    "sympy==1.14.0",
    "twisted==26.10.0",
    "networkx==3.6.1",
    "sqlalchemy==2.1.9",
    "ansible-core==2.19.15",
    "pip==26.3",
    "pygments==2.21.0",
    "sphinx==9.0.4",
    "setuptools==84.2.1",
    "docutils==0.23.1",
)


def _wheel(spec: str, cache: Path) -> Path:
    """The wheel of ``spec`` in ``cache``, downloaded once."""
    name, version = spec.split("==")
    stem = name.replace("-", "_").lower()
    found = [w for w in cache.glob("*.whl") if w.name.lower().startswith(f"{stem}-{version}-")]
    if not found:
        cache.mkdir(parents=True, exist_ok=True)
        cmd = [sys.executable, "-m", "pip", "download", "-q", "--no-deps"]
        cmd += ["--only-binary", ":all:", spec, "-d", str(cache)]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        found = [w for w in cache.glob("*.whl") if w.name.lower().startswith(f"{stem}-{version}-")]
    if len(found) != 1:
        raise SystemExit(f"python corpora: expected one wheel for {spec} in {cache}, got {found}")
    return found[0]


def _unpack(wheel: Path, dest: Path) -> None:
    """The wheel's importable packages (no ``*.dist-info``/``*.data``) into ``dest``."""
    with zipfile.ZipFile(wheel) as zf:
        meta = (".dist-info", ".data")
        members = [m for m in zf.namelist() if not m.split("/")[0].endswith(meta)]
        zf.extractall(dest, members)


def python_corpora(base: Path) -> dict[str, Path]:
    """``{"stdlib": …, "django": …, "mixed": …}`` under ``base`` (built once, reused)."""
    cache = base / "wheels"
    django = base / "django"
    if not django.exists():
        _unpack(_wheel(DJANGO, cache), django)
    mixed = base / "mixed"
    if not (mixed / ".complete").exists():
        shutil.rmtree(mixed, ignore_errors=True)
        shutil.copytree(default_corpus(), mixed / "stdlib", ignore=IGNORE, symlinks=True)
        for spec in MIXED:
            _unpack(_wheel(spec, cache), mixed / spec.split("==")[0])
        (mixed / ".complete").touch()
    return {"stdlib": default_corpus(), "django": django, "mixed": mixed}
