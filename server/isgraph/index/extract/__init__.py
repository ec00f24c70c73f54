"""Language extractors (``registry.EXTRACTORS``: language -> extractor), run in the parser
processes. This package's ``__init__`` imports nothing: the parent process imports modules
of it (``lang.project``, ``lang.tsconfig`` for the tree context) without loading every
extractor and grammar (~50 ms of a no-change rerun, issue 19)."""
