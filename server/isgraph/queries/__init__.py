"""The query layer: every question the fronts (CLI, language server, MCP server) ask the graph,
as pure functions from (store, arguments) to plain records.

A front only parses its arguments and converts these records to its own shapes (a table,
lsprotocol types, a tool's JSON), so an answer is written once and means the same everywhere.
Every list comes as a `page.Page` (``total``, ``truncated``, a ``cursor`` where paging makes
sense), so every front can say when an answer was cut.

Modules: `page` (Page), `lookup` (finding entities), `graph` (walks, references,
hierarchies, cycles, stats), `impact` (impact with provenance), `detail` (one symbol in
depth), `context` (a ranked context pack within a token budget), `changes` (a git diff's
symbols, impact and tests), `tokens` (estimates), `source` (entity source lines).
"""
