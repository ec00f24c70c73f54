/**
 * isgraph's MCP server for VS Code's agent: one `isgraph mcp --root FOLDER` per workspace
 * folder, contributed through VS Code's MCP server definition API so the agent sees it
 * without an mcp.json. It is started with the language server's Python (settings.ts).
 */
import * as vscode from 'vscode';

import { pythonExtensionInterpreter } from './server';
import { mcpLaunch, readSettings, SECTION, serverLaunch } from './settings';

/** Must equal `contributes.mcpServerDefinitionProviders[0].id` in package.json. */
export const MCP_PROVIDER_ID = 'isgraph.mcp';

export function registerMcpServers(
  context: vscode.ExtensionContext,
  output: vscode.LogOutputChannel,
  version: string,
): void {
  const changed = new vscode.EventEmitter<void>();
  const provider: vscode.McpServerDefinitionProvider<vscode.McpStdioServerDefinition> = {
    onDidChangeMcpServerDefinitions: changed.event,
    provideMcpServerDefinitions: async () => {
      const config = vscode.workspace.getConfiguration(SECTION);
      const { settings } = readSettings((key) => config.get(key));
      const out: vscode.McpStdioServerDefinition[] = [];
      for (const folder of vscode.workspace.workspaceFolders ?? []) {
        const launch = serverLaunch(
          settings,
          settings.command.length === 0 && settings.interpreter === ''
            ? await pythonExtensionInterpreter(folder.uri)
            : undefined,
        );
        const argv = mcpLaunch(launch, folder.uri.fsPath);
        if (argv === undefined) {
          output.warn(`no MCP server for ${folder.name}: "isgraph.command" does not end in "serve"`);
          continue;
        }
        const server = new vscode.McpStdioServerDefinition(`isgraph: ${folder.name}`, argv.command, argv.args, {}, version);
        server.cwd = folder.uri;
        out.push(server);
      }
      return out;
    },
  };
  context.subscriptions.push(
    changed,
    vscode.lm.registerMcpServerDefinitionProvider(MCP_PROVIDER_ID, provider),
    vscode.workspace.onDidChangeWorkspaceFolders(() => changed.fire()),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration(SECTION)) {
        changed.fire();
      }
    }),
  );
}
