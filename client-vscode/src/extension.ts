/** The isgraph extension: wires the server manager, the status bar and the commands. */
import * as vscode from 'vscode';

import { reindex, showImpact, showStats } from './commands';
import { debounce } from './debounce';
import { registerMcpServers } from './mcp';
import { ServerManager } from './server';
import { SECTION } from './settings';
import { StatusBar } from './statusBar';

const RESTART_DEBOUNCE_MS = 750; // typing a setting fires one change per keystroke

let manager: ServerManager | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const output = vscode.window.createOutputChannel('isgraph', { log: true });
  const status = new StatusBar('isgraph.showStats', output);
  const servers: ServerManager = new ServerManager(output, {
    starting: () => status.starting(),
    running: (client) => status.running(client),
    stopped: () => status.stopped(),
    failed: (message) => status.failed(message),
    progress: (value) => status.progress(value, servers.current),
  });
  manager = servers;
  const restart = (): Promise<void> => servers.restart();
  const restartSoon = debounce(() => void restart(), RESTART_DEBOUNCE_MS);

  context.subscriptions.push(
    output,
    status,
    servers,
    { dispose: () => restartSoon.cancel() },
    vscode.commands.registerCommand('isgraph.reindexWorkspace', () => reindex(servers.current, restart)),
    vscode.commands.registerCommand('isgraph.showImpact', () => showImpact(servers.current)),
    vscode.commands.registerCommand('isgraph.restartServer', restart),
    vscode.commands.registerCommand('isgraph.showOutput', () => output.show()),
    vscode.commands.registerCommand('isgraph.showStats', () => showStats(servers.current, output)),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration(SECTION)) {
        restartSoon();
      }
    }),
  );
  // The agent's MCP server (isgraph mcp) is contributed whatever becomes of the language server.
  registerMcpServers(context, output, String(context.extension.packageJSON.version ?? ''));
  await servers.start();
}

export async function deactivate(): Promise<void> {
  await manager?.stop();
  manager = undefined;
}
