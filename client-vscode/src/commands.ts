/**
 * The extension's commands. Server work goes through `workspace/executeCommand`
 * (`isgraph.reindex`, `isgraph.impact`, `isgraph.stats`); a server that does not offer a command
 * yet gets a clear message, or, for impact, the older `isgraph/query` request.
 *
 * The VS Code command ids differ from the server's on purpose: vscode-languageclient registers
 * a VS Code command for each command the server advertises, and a clash would fail that.
 */
import * as vscode from 'vscode';
import {
  ExecuteCommandRequest,
  type LanguageClient,
  ResponseError,
} from 'vscode-languageclient/node';

import {
  type EntityRecord,
  entityRecords,
  impactItem,
  isUnsupported,
  type ListCommand,
  listPresentation,
  type StatsRecord,
  statsRecord,
} from './protocol';

export type CommandResult = { supported: true; value: unknown } | { supported: false };

/** Runs a server command; `{supported: false}` when this server does not have it. */
export async function serverCommand(client: LanguageClient, command: string, args: unknown[] = []): Promise<CommandResult> {
  const advertised = client.initializeResult?.capabilities.executeCommandProvider?.commands;
  if (isUnsupported(command, advertised)) {
    return { supported: false };
  }
  try {
    const value: unknown = await client.sendRequest(ExecuteCommandRequest.type, { command, arguments: args });
    return { supported: true, value };
  } catch (err) {
    if (err instanceof ResponseError && isUnsupported(command, advertised, err)) {
      return { supported: false };
    }
    throw err;
  }
}

const unsupported = (command: string): string =>
  `isgraph: this isgraph server does not support "${command}" yet (update isgraph in the interpreter the extension uses).`;

/**
 * Stats of the index: `'unsupported'` when the server has no `isgraph.stats`, undefined when
 * its answer has no counts (e.g. before any folder is open).
 */
export async function fetchStats(client: LanguageClient): Promise<StatsRecord | 'unsupported' | undefined> {
  const r = await serverCommand(client, 'isgraph.stats');
  return r.supported ? statsRecord(r.value) : 'unsupported';
}

export async function reindex(client: LanguageClient | undefined, restart: () => Promise<void>): Promise<void> {
  if (client === undefined) {
    await restart();
    return;
  }
  const r = await serverCommand(client, 'isgraph.reindex');
  if (!r.supported) {
    const choice = await vscode.window.showWarningMessage(
      `${unsupported('isgraph.reindex')} Restarting the server re-indexes the changed files.`,
      'Restart server',
    );
    if (choice === 'Restart server') {
      await restart();
    }
  }
}

/** The key of the definition at the cursor, through call hierarchy (its items carry the key). */
async function keyAtCursor(client: LanguageClient, editor: vscode.TextEditor): Promise<string | undefined> {
  const items: unknown = await client.sendRequest('textDocument/prepareCallHierarchy', {
    textDocument: { uri: editor.document.uri.toString() },
    position: { line: editor.selection.active.line, character: editor.selection.active.character },
  });
  const data: unknown = Array.isArray(items) && items.length > 0 ? (items[0] as { data?: unknown }).data : undefined;
  return typeof data === 'string' ? data : undefined;
}

export async function showImpact(client: LanguageClient | undefined): Promise<void> {
  if (client === undefined) {
    void vscode.window.showWarningMessage('isgraph: the server is not running (isgraph: Restart server).');
    return;
  }
  const editor = vscode.window.activeTextEditor;
  let target = editor !== undefined ? await keyAtCursor(client, editor) : undefined;
  if (target === undefined) {
    const word = editor?.document.getText(editor.document.getWordRangeAtPosition(editor.selection.active));
    target = await vscode.window.showInputBox({
      title: 'isgraph: impact of which symbol?',
      prompt: 'A name or an entity key (python:function:path.py:name)',
      value: word ?? '',
    });
    if (!target) {
      return;
    }
  }
  let records: EntityRecord[];
  let fresh = true;
  const r = await serverCommand(client, 'isgraph.impact', [target]);
  if (r.supported) {
    records = entityRecords(r.value);
    fresh = (r.value as { fresh?: unknown } | null)?.fresh !== false;
  } else {
    // Servers before `workspace/executeCommand`: the same graph query as a custom request.
    const answer: unknown = await client.sendRequest('isgraph/query', { query: 'impact', target, depth: 3 });
    records = entityRecords(answer);
    fresh = (answer as { fresh?: unknown } | null)?.fresh !== false;
  }
  await presentImpact(target, records, fresh);
}

/** The dependents in a quick pick that opens the chosen one (see `presentList`). */
export async function presentImpact(target: string, records: EntityRecord[], fresh = true): Promise<void> {
  await presentList('isgraph.impact', target, records, fresh);
}

/**
 * A list command's answer in a quick pick that opens the chosen entity: the impact of a
 * symbol, its callers, or the definitions an unresolved name could mean. Used for the
 * server's own commands when a code lens or a code action runs them (through the client's
 * executeCommand middleware), and for `isgraph: Show impact of symbol`.
 */
export async function presentList(command: ListCommand, target: string, records: EntityRecord[], fresh = true): Promise<void> {
  const shown = listPresentation(command, target, records.length, fresh);
  if (records.length === 0) {
    void vscode.window.showInformationMessage(shown.empty);
    return;
  }
  const items = records.map((rec) => ({ ...impactItem(rec), rec }));
  const picked = await vscode.window.showQuickPick(items, {
    title: shown.title,
    matchOnDescription: true,
    matchOnDetail: true,
  });
  if (picked !== undefined) {
    await openRecord(picked.rec);
  }
}

/** Opens an entity record (its path is relative to one of the workspace folders). */
async function openRecord(rec: EntityRecord): Promise<void> {
  for (const folder of vscode.workspace.workspaceFolders ?? []) {
    const uri = vscode.Uri.joinPath(folder.uri, rec.path);
    try {
      await vscode.workspace.fs.stat(uri);
    } catch {
      continue;
    }
    const line = Math.max(0, (rec.start_line ?? 1) - 1);
    await vscode.window.showTextDocument(uri, { selection: new vscode.Range(line, 0, line, 0) });
    return;
  }
  void vscode.window.showWarningMessage(`isgraph: ${rec.path} is not in this workspace.`);
}

export async function showStats(client: LanguageClient | undefined, output: vscode.LogOutputChannel): Promise<void> {
  if (client === undefined) {
    void vscode.window.showWarningMessage('isgraph: the server is not running (isgraph: Restart server).');
    return;
  }
  const r = await serverCommand(client, 'isgraph.stats');
  if (!r.supported) {
    void vscode.window.showWarningMessage(unsupported('isgraph.stats'));
    return;
  }
  const stats = statsRecord(r.value);
  output.info(`stats: ${JSON.stringify(r.value, null, 2)}`);
  const line = stats !== undefined
    ? `isgraph: ${stats.files} files · ${stats.entities} entities · ${stats.edges} edges`
    : 'isgraph: the server answered stats in an unknown shape (see the output).';
  const choice = await vscode.window.showInformationMessage(line, 'Show details');
  if (choice === 'Show details') {
    output.show();
  }
}
