"""Per-process cache of tree-sitter parsers and compiled queries.

Grammars come from tree-sitter-language-pack 0.13.0, which bundles them all (1.x downloads
grammars at run time and fails offline). Compiling a query costs milliseconds, so each worker
process compiles each query once.
"""

from __future__ import annotations

from functools import cache

from tree_sitter import Language, Parser, Query
from tree_sitter_language_pack import get_language as _get_language
from tree_sitter_language_pack import get_parser as _get_parser


@cache
def get_language(name: str) -> Language:
    return _get_language(name)  # type: ignore[arg-type]


@cache
def get_parser(name: str) -> Parser:
    return _get_parser(name)  # type: ignore[arg-type]


@cache
def get_query(language: str, source: str) -> Query:
    """A compiled query, cached by (language, source text)."""
    return Query(get_language(language), source)
