"""Downstream language servers: isgraph as an LSP *client* of other servers (jedi, clangd…).

- `downstream.Downstream`: one configured server process, its lifecycle (lazy start,
  restart with backoff, give up after repeated crashes, bounded shutdown) and its requests.
- `manager.DownstreamManager`: every configured server, routing by language, document
  mirroring, hover fan-out with per-server timeouts.
- `hover`: turning LSP hover answers into markdown, merging them with graph facts, and the
  metadata (signature / type) an enrichment stores.
- `enrich.Enricher`: the index-time stage asking hover at each entity's name.
- `confirm`: downstream `textDocument/definition` confirming or correcting inferred calls.
"""
