"""Hover text: from LSP answers to markdown, merged with graph facts; metadata from a hover;
where an entity's name is (the position enrichment asks about)."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from lsprotocol import types

from isgraph.queries.source import char_index, name_position, utf16_len

__all__ = ["char_index", "name_position", "utf16_len"]  # where proxy/ reads them

SEPARATOR = "\n\n---\n\n"
_FENCE = re.compile(r"```[^\n]*\n(.*?)```", re.S)
_ARROW = re.compile(r"(?:->|→)\s*`?([^`\n]+?)`?\s*$", re.M)
_TYPE_LINE = re.compile(r"^Type:\s*`([^`]+)`", re.M)  # clangd's variables


def markdown_of(hover: Any) -> str | None:
    """The markdown of a hover answer (MarkupContent, MarkedString or a list of them)."""
    if hover is None:
        return None
    contents = getattr(hover, "contents", hover)
    items = contents if isinstance(contents, list) else [contents]
    parts: list[str] = []
    for item in items:
        if isinstance(item, str):
            parts.append(item)
        elif isinstance(item, types.MarkupContent):
            parts.append(
                item.value if item.kind == types.MarkupKind.Markdown else _escape_plain(item.value)
            )
        elif isinstance(item, types.MarkedStringWithLanguage):
            parts.append(f"```{item.language}\n{item.value}\n```")
        elif isinstance(item, dict) and isinstance(item.get("value"), str):
            lang = item.get("language") or ""
            parts.append(f"```{lang}\n{item['value']}\n```" if lang else item["value"])
    text = "\n\n".join(p.strip() for p in parts if p and p.strip())
    return text or None


def _escape_plain(text: str) -> str:
    # Plain text shown as markdown: keep its lines, show it verbatim.
    return f"```\n{text}\n```" if text.strip() else ""


def merge(downstream: Sequence[str], facts: str | None) -> str | None:
    """One hover: each downstream server's text (in configuration order), then the graph's."""
    parts = [p for p in downstream if p] + ([facts] if facts else [])
    return SEPARATOR.join(parts) if parts else None


def metadata_of(text: str | None, server: str) -> str:
    """The JSON stored as an entity's metadata: the hover text, and the signature (first code
    block) and type (a return or declared type) where the text yields them. ``text`` None
    records that the server was asked and had nothing to say (not retried)."""
    record: dict[str, Any] = {"server": server, "hover": text}
    if text:
        fence = _FENCE.search(text)
        signature = fence.group(1).strip() if fence else ""
        if signature:
            record["signature"] = signature
        type_ = _type_of(signature, text)
        if type_:
            record["type"] = type_
    return json.dumps(record, ensure_ascii=False, sort_keys=True)


def _type_of(signature: str, text: str) -> str | None:
    if signature:
        head = signature.splitlines()[0]
        arrow = _ARROW.search(head.rstrip(":"))
        if arrow:
            return arrow.group(1).strip().rstrip(":")
        decl = re.match(r"^(?:\w+\s+)?[\w.]+\s*:\s*(.+)$", head)  # `x: int`, `var x: int`
        if decl and "(" not in head.split(":")[0]:
            return decl.group(1).strip()
        returns = re.search(r"\)\s*:\s*([^=:{]+?)\s*$", head)  # TypeScript `f(n: T): R`
        if returns:
            return returns.group(1).strip()
    for pattern in (_TYPE_LINE, _ARROW):
        found = pattern.search(text)
        if found:
            return found.group(1).strip()
    return None


def stored_hover(metadata: str | None) -> str | None:
    """The hover text an enrichment stored, if any."""
    if not metadata:
        return None
    try:
        record = json.loads(metadata)
    except ValueError:
        return None
    text = record.get("hover") if isinstance(record, dict) else None
    return text if isinstance(text, str) and text else None
