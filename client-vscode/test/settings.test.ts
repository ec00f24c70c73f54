import assert from 'node:assert/strict';
import { test } from 'node:test';

import { initializationOptions, mcpLaunch, notInstalledMessage, readSettings, serverLaunch } from '../src/settings';

const getter = (values: Record<string, unknown>) => (key: string): unknown => values[key];

test('defaults when nothing is set', () => {
  const { settings, problems } = readSettings(getter({}));
  assert.deepEqual(problems, []);
  assert.deepEqual(settings, { interpreter: '', command: [], db: '', excludes: [], downstream: [], trace: 'off' });
  assert.deepEqual(initializationOptions(settings), {});
});

test('wrong types are reported by name and replaced by defaults', () => {
  const { settings, problems } = readSettings(
    getter({ db: 3, excludes: ['a', 1], command: 'isgraph serve', 'trace.server': 'loud' }),
  );
  assert.equal(settings.db, '');
  assert.deepEqual(settings.excludes, []);
  assert.deepEqual(settings.command, []);
  assert.equal(settings.trace, 'off');
  assert.deepEqual(problems, [
    'isgraph.trace.server must be off, messages or verbose; off used',
    'isgraph.command must be a list of strings; ignored',
    'isgraph.db must be a string; ignored',
    'isgraph.excludes must be a list of strings; ignored',
  ]);
});

test('initializationOptions carries only what is set, with the server-side key names', () => {
  const { settings } = readSettings(
    getter({
      db: ' sqlite:/tmp/x.db ',
      excludes: ['build/'],
      downstream: [
        { name: 'jedi', command: ['jedi-language-server'], languages: ['python'], timeout_ms: 500, settings: { a: 1 } },
        { name: 'broken', command: [], languages: ['python'] },
        'nonsense',
      ],
    }),
  );
  assert.deepEqual(initializationOptions(settings), {
    db: 'sqlite:/tmp/x.db',
    excludes: ['build/'],
    downstream: [
      { name: 'jedi', command: ['jedi-language-server'], languages: ['python'], timeout_ms: 500, settings: { a: 1 } },
    ],
  });
});

test('downstream problems name the entry', () => {
  const { problems } = readSettings(
    getter({ downstream: [{ name: 'x', command: ['x'], languages: ['python'], timeout_ms: -1 }, 7] }),
  );
  assert.deepEqual(problems, [
    'isgraph.downstream[0].timeout_ms must be a positive integer; default used',
    'isgraph.downstream[1] must be an object; ignored',
  ]);
});

test('launch: command wins, then interpreter, then the Python extension, then python3', () => {
  const base = readSettings(getter({})).settings;
  assert.deepEqual(serverLaunch({ ...base, command: ['/opt/isgraph', 'serve'], interpreter: '/py' }, ['/ext/py']), {
    command: '/opt/isgraph',
    args: ['serve'],
    source: 'isgraph.command',
  });
  const viaSetting = serverLaunch({ ...base, interpreter: '/venv/bin/python' }, ['/ext/py']);
  assert.equal(viaSetting.command, '/venv/bin/python');
  assert.deepEqual(viaSetting.args, ['-m', 'isgraph', 'serve']);
  assert.deepEqual(viaSetting.check, ['-c', 'import isgraph.lsp.server']);
  const viaExtension = serverLaunch(base, ['conda', 'run', '-n', 'env', 'python']);
  assert.equal(viaExtension.command, 'conda');
  assert.deepEqual(viaExtension.args, ['run', '-n', 'env', 'python', '-m', 'isgraph', 'serve']);
  assert.equal(viaExtension.source, 'Python extension');
  assert.deepEqual(serverLaunch(base, undefined).command, 'python3');
  assert.deepEqual(serverLaunch(base, []).source, 'default');
});

test('the not-installed message names the interpreter and the fix', () => {
  const base = readSettings(getter({})).settings;
  const msg = notInstalledMessage(
    serverLaunch({ ...base, interpreter: '/venv/bin/python' }),
    "Traceback...\nModuleNotFoundError: No module named 'isgraph'\n",
  );
  assert.match(msg, /isgraph is not installed in \/venv\/bin\/python \(from isgraph.interpreter\)/);
  assert.match(msg, /No module named 'isgraph'/);
  assert.match(msg, /\/venv\/bin\/python -m pip install isgraph/);
  const cmd = notInstalledMessage(serverLaunch({ ...base, command: ['/nope', 'serve'] }), 'spawn /nope ENOENT');
  assert.match(cmd, /\["\/nope","serve"\] \(from isgraph.command\) could not be started: spawn \/nope ENOENT/);
});

test('initializationOptions passes VS Code workspace trust as trustWorkspace', () => {
  const { settings } = readSettings(getter({}));
  assert.deepEqual(initializationOptions(settings, true), { trustWorkspace: true });
  assert.deepEqual(initializationOptions(settings, false), { trustWorkspace: false });
  assert.deepEqual(initializationOptions(settings), {});
});

test('the MCP server is the language server launch with mcp --root instead of serve', () => {
  const { settings } = readSettings(getter({ interpreter: '/venv/bin/python' }));
  assert.deepEqual(mcpLaunch(serverLaunch(settings), '/work/proj'), {
    command: '/venv/bin/python',
    args: ['-m', 'isgraph', 'mcp', '--root', '/work/proj'],
  });
  const conda = serverLaunch(readSettings(getter({})).settings, ['conda', 'run', '-n', 'x', 'python']);
  assert.deepEqual(mcpLaunch(conda, '/p'), {
    command: 'conda',
    args: ['run', '-n', 'x', 'python', '-m', 'isgraph', 'mcp', '--root', '/p'],
  });
  const own = serverLaunch(readSettings(getter({ command: ['/opt/bin/isgraph', 'serve'] })).settings);
  assert.deepEqual(mcpLaunch(own, '/p'), { command: '/opt/bin/isgraph', args: ['mcp', '--root', '/p'] });
  const odd = serverLaunch(readSettings(getter({ command: ['/opt/wrapper.sh'] })).settings);
  assert.equal(mcpLaunch(odd, '/p'), undefined);
});

test('package.json contributes the MCP server definition provider the extension registers', async () => {
  const { readFileSync } = await import('node:fs');
  const { join } = await import('node:path');
  const pkg = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8'));
  const ids = pkg.contributes.mcpServerDefinitionProviders.map((p: { id: string }) => p.id);
  assert.deepEqual(ids, ['isgraph.mcp']);
  assert.ok(pkg.activationEvents.includes('onMcpServerDefinitionProvider:isgraph.mcp'));
  const source = readFileSync(join(__dirname, '..', '..', 'src', 'mcp.ts'), 'utf8');
  assert.match(source, /MCP_PROVIDER_ID = 'isgraph\.mcp'/);
});
