"""The query-engine languages' specs (``specs.SPECS``) and what they read of the project
(``project``, ``tsconfig``, ``go``…). Imports nothing itself: see ``extract/__init__``."""
