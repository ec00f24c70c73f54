"""File extension -> language name, as tree-sitter-language-pack 0.13.0 names its grammars."""

from __future__ import annotations

import posixpath

LANGUAGE_BY_EXTENSION: dict[str, str] = {
    ".py": "python",
    ".pyi": "python",
    ".pyw": "python",
    ".js": "javascript",
    ".mjs": "javascript",
    ".cjs": "javascript",
    ".jsx": "javascript",
    ".ts": "typescript",
    ".mts": "typescript",
    ".cts": "typescript",
    ".tsx": "tsx",
    ".go": "go",
    ".rs": "rust",
    ".java": "java",
    ".c": "c",
    ".h": "c",
    ".cc": "cpp",
    ".cpp": "cpp",
    ".cxx": "cpp",
    ".hpp": "cpp",
    ".hh": "cpp",
    ".hxx": "cpp",
    ".h++": "cpp",
    ".c++": "cpp",
    ".rb": "ruby",
    ".php": "php",
    ".cs": "csharp",
    ".swift": "swift",
    ".kt": "kotlin",
    ".kts": "kotlin",
    # definitions only, through the generic path (extract/definitions.py `kinds_for`)
    ".scala": "scala",
    ".sc": "scala",
    ".lua": "lua",
    ".sh": "bash",
    ".bash": "bash",
    ".jl": "julia",
    ".dart": "dart",
    ".r": "r",
    ".R": "r",
    ".sol": "solidity",
    ".nim": "nim",
    ".ml": "ocaml",
}

LANGUAGES: frozenset[str] = frozenset(LANGUAGE_BY_EXTENSION.values())


def language_for(path: str) -> str | None:
    """The language of a file by its extension, or None.

    Matching is case-sensitive (``.C`` is not ``.c``), and a name that is only an extension
    (``.py``) has none, as ``os.path.splitext`` has it.
    """
    return LANGUAGE_BY_EXTENSION.get(posixpath.splitext(path)[1])
