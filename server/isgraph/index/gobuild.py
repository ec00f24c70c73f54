"""Go build constraints: which files of a package the Go toolchain would compile.

A Go package often defines one name several times, once per platform (``os/file_plan9.go``
and ``os/file_posix.go`` both define ``File.Close``; ``runtime/lock_futex.go`` and
``lock_sema.go`` both ``unlock``). The toolchain — and gopls, which answers for one
configuration, the host's by default — compiles only the files whose constraints hold:
a file-name suffix (``_linux``, ``_windows_amd64``, before an optional ``_test``) and the
``//go:build`` expression (or the older ``// +build`` lines) before the package clause.

isgraph indexes every file (a definition for another platform is still a definition): the
extractor keeps a file's ``//go:build`` expression as its module entity's signature
(``build_directive``), and resolution prefers, among same-named candidates in several
files, those whose file builds for the caller's platform (``builds``). The platform is
the host's, or ``GOOS`` / ``GOARCH`` from the environment as for the go command
(``Platform.current``); ``CGO_ENABLED=0`` turns the ``cgo`` tag off. Rules as in
``go/build`` (``goodOSArchFile``, ``matchTag``) and ``go/build/constraint``.
"""

from __future__ import annotations

import os
import platform as _host
import posixpath
import re
import sys
from dataclasses import dataclass

# go/build/syslist.go (Go 1.21: the 1.19 lists plus wasip1)
KNOWN_OS = frozenset(
    [
        "aix",
        "android",
        "darwin",
        "dragonfly",
        "freebsd",
        "hurd",
        "illumos",
        "ios",
        "js",
        "linux",
        "nacl",
        "netbsd",
        "openbsd",
        "plan9",
        "solaris",
        "wasip1",
        "windows",
        "zos",
    ]
)
UNIX_OS = frozenset(
    [
        "aix",
        "android",
        "darwin",
        "dragonfly",
        "freebsd",
        "hurd",
        "illumos",
        "ios",
        "linux",
        "netbsd",
        "openbsd",
        "solaris",
    ]
)
KNOWN_ARCH = frozenset(
    [
        "386",
        "amd64",
        "amd64p32",
        "arm",
        "armbe",
        "arm64",
        "arm64be",
        "loong64",
        "mips",
        "mipsle",
        "mips64",
        "mips64le",
        "mips64p32",
        "mips64p32le",
        "ppc",
        "ppc64",
        "ppc64le",
        "riscv",
        "riscv64",
        "s390",
        "s390x",
        "sparc",
        "sparc64",
        "wasm",
    ]
)
# GOOS values that also satisfy another GOOS's tag (go/build `matchTag`)
_ALSO = {"android": "linux", "illumos": "solaris", "ios": "darwin"}
_MACHINES = {"x86_64": "amd64", "aarch64": "arm64", "i386": "386", "i686": "386"}
_RELEASE = re.compile(r"go1\.\d+")
# `goexperiment.*` tags on by default (Go 1.19+: the register ABI on these architectures)
_REGABI = frozenset({"amd64", "arm64", "ppc64", "ppc64le", "riscv64"})
_EXPERIMENTS = frozenset({"goexperiment.regabiargs", "goexperiment.regabiwrappers"})
DIRECTIVE = "//go:build "  # the prefix of a Go module entity's signature that holds one


@dataclass(frozen=True, slots=True)
class Platform:
    """One build configuration: what a constraint is evaluated against."""

    goos: str
    goarch: str
    cgo: bool = True

    @classmethod
    def current(cls) -> Platform:
        """The go command's default: ``GOOS`` / ``GOARCH`` / ``CGO_ENABLED`` from the
        environment, else the host's."""
        machine = _host.machine().lower()
        host = sys.platform.rstrip("0123456789")  # linux, darwin, win32 -> win, freebsd14
        goos = os.environ.get("GOOS") or ("windows" if host == "win" else host)
        goarch = os.environ.get("GOARCH") or _MACHINES.get(machine, machine)
        return cls(goos, goarch, os.environ.get("CGO_ENABLED", "1") != "0")

    def has(self, tag: str) -> bool:
        """Whether build tag ``tag`` is satisfied (go/build ``matchTag``): the GOOS (and the
        GOOS it implies), the GOARCH, ``unix`` on Unix systems, ``gc``, ``cgo``, every
        release tag ``go1.N``, and the register-ABI experiments where they are the default;
        nothing else (custom tags are off by default)."""
        if tag in (self.goos, self.goarch, "gc") or _ALSO.get(self.goos) == tag:
            return True
        if tag == "unix":
            return self.goos in UNIX_OS
        if tag == "cgo":
            return self.cgo
        if tag in _EXPERIMENTS:
            return self.goarch in _REGABI
        return _RELEASE.fullmatch(tag) is not None

    def for_file(self, path: str) -> Platform:
        """The platform a file is written for: its name's GOOS / GOARCH suffix when that
        names another platform than this one (``file_plan9.go`` calls plan9's
        definitions), else this one."""
        goos, goarch = file_suffix(path)
        if (goos is None or goos == self.goos) and (goarch is None or goarch == self.goarch):
            return self
        return Platform(goos or self.goos, goarch or self.goarch, self.cgo)


def file_suffix(path: str) -> tuple[str | None, str | None]:
    """The (GOOS, GOARCH) a Go file name's suffix fixes (``x_linux_amd64_test.go``:
    ("linux", "amd64"); ``x_arm64.go``: (None, "arm64"); ``linux.go``: (None, None)), as
    go/build's ``goodOSArchFile`` reads it: only after the first ``_``."""
    name = posixpath.basename(path).split(".", 1)[0]
    if "_" not in name:
        return None, None
    parts = name[name.index("_") :].split("_")
    if parts and parts[-1] == "test":
        parts = parts[:-1]
    if len(parts) >= 2 and parts[-2] in KNOWN_OS and parts[-1] in KNOWN_ARCH:
        return parts[-2], parts[-1]
    if parts and parts[-1] in KNOWN_OS:
        return parts[-1], None
    if parts and parts[-1] in KNOWN_ARCH:
        return None, parts[-1]
    return None, None


def build_directive(source: bytes) -> str:
    """The file's build constraint as a ``//go:build EXPR`` line (``DIRECTIVE``), or "":
    the ``//go:build`` line among the comments before the package clause, else its
    ``// +build`` lines translated (space: or, comma: and, lines: and)."""
    plus: list[str] = []
    for raw in source.split(b"\n", 400)[:400]:
        line = raw.decode("utf-8", "replace").strip()
        if line.startswith("//go:build "):
            return DIRECTIVE + line[len(DIRECTIVE) :].strip()
        if line.startswith("// +build "):
            ors = [" && ".join(t.split(",")) for t in line[len("// +build ") :].split()]
            plus.append("(" + " || ".join(f"({o})" for o in ors) + ")")
        elif line.startswith("package ") or (line and not line.startswith(("//", "/*", "*"))):
            break  # constraints come before the package clause only
    return DIRECTIVE + " && ".join(plus) if plus else ""


def builds(path: str, directive: str, target: Platform) -> bool:
    """Whether the toolchain compiles the file at ``path`` (whose module signature is
    ``directive``) for ``target``: its name's suffix and its constraint expression both
    hold. An expression that does not parse does not exclude the file."""
    goos, goarch = file_suffix(path)
    for tag in (goos, goarch):
        if tag is not None and not target.has(tag):
            return False
    if not directive.startswith(DIRECTIVE):
        return True
    try:
        return _Expr(directive[len(DIRECTIVE) :], target).value()
    except ValueError:
        return True


_TOKEN = re.compile(r"\s*(\|\||&&|!|\(|\)|[A-Za-z0-9_.]+)")


class _Expr:
    """A recursive-descent evaluation of a ``//go:build`` expression (go/build/constraint:
    ``||`` binds loosest, then ``&&``, then ``!``; parentheses; tags)."""

    def __init__(self, text: str, target: Platform) -> None:
        self.tokens: list[str] = []
        pos = 0
        text = text.rstrip()
        while pos < len(text):
            m = _TOKEN.match(text, pos)
            if m is None:
                raise ValueError(text)
            self.tokens.append(m.group(1))
            pos = m.end()
        self.i = 0
        self.target = target

    def value(self) -> bool:
        result = self._or()
        if self.i != len(self.tokens):
            raise ValueError("trailing tokens")
        return result

    def _peek(self) -> str:
        return self.tokens[self.i] if self.i < len(self.tokens) else ""

    def _or(self) -> bool:
        result = self._and()
        while self._peek() == "||":
            self.i += 1
            right = self._and()  # (both sides parsed: no short cut past tokens)
            result = result or right
        return result

    def _and(self) -> bool:
        result = self._not()
        while self._peek() == "&&":
            self.i += 1
            right = self._not()
            result = result and right
        return result

    def _not(self) -> bool:
        tok = self._peek()
        self.i += 1
        if tok == "!":
            return not self._not()
        if tok == "(":
            inner = self._or()
            if self._peek() != ")":
                raise ValueError("unbalanced")
            self.i += 1
            return inner
        if not tok or tok in ("||", "&&", ")"):
            raise ValueError("tag expected")
        return self.target.has(tok)
