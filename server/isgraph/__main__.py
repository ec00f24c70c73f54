"""`python -m isgraph` runs the CLI.

``python -m`` puts the current directory first on ``sys.path``, and isgraph runs inside the
code it indexes (the VS Code extension starts ``<python> -m isgraph serve`` in the
workspace): a workspace's own ``json.py``, ``logging.py`` or a copy of the standard library
would then be imported instead of the modules isgraph needs (and, without their ``.pyc``,
compiled at every start). isgraph never imports from the current directory, so it leaves it
off the path first, as ``python -P`` does.
"""

import os
import sys

if not sys.flags.safe_path and sys.path and sys.path[0] in ("", os.getcwd()):
    del sys.path[0]

from isgraph.entry import main  # after the path is made safe

if __name__ == "__main__":
    main()
