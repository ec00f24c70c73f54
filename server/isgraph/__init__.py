"""isgraph: a code-graph indexer that lives in the editor."""

__version__ = "0.1.0"
