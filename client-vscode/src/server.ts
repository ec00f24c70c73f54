/**
 * Starting, stopping and restarting `isgraph serve` through vscode-languageclient.
 */
import { execFile } from 'node:child_process';
import * as vscode from 'vscode';
import {
  LanguageClient,
  type LanguageClientOptions,
  type ServerOptions,
  State,
} from 'vscode-languageclient/node';

import { presentList } from './commands';
import { entityRecords, isListCommand } from './protocol';
import { type Launch, initializationOptions, notInstalledMessage, readSettings, SECTION, serverLaunch } from './settings';
import type { ProgressValue } from './status';

/** Languages isgraph indexes (VS Code language ids); the server sees saves of these files. */
export const LANGUAGES = [
  'python', 'javascript', 'javascriptreact', 'typescript', 'typescriptreact', 'go', 'rust', 'java',
  'c', 'cpp', 'ruby', 'php', 'csharp', 'swift', 'kotlin',
];

export interface ServerEvents {
  starting(): void;
  running(client: LanguageClient): void;
  stopped(): void;
  failed(message: string): void;
  progress(value: ProgressValue): void;
}

/** The Python extension's interpreter for a resource (argv), if that extension is installed. */
export async function pythonExtensionInterpreter(resource?: vscode.Uri): Promise<string[] | undefined> {
  const ext = vscode.extensions.getExtension('ms-python.python');
  if (ext === undefined) {
    return undefined;
  }
  try {
    // The API is untyped here: guard every step, an old or new Python extension must not break us.
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const api: any = ext.isActive ? ext.exports : await ext.activate();
    const envPath = api?.environments?.getActiveEnvironmentPath?.(resource);
    if (envPath !== undefined) {
      const env = await api.environments.resolveEnvironment?.(envPath);
      const exe: unknown = env?.executable?.uri?.fsPath;
      if (typeof exe === 'string' && exe !== '') {
        return [exe];
      }
    }
    const exec: unknown = api?.settings?.getExecutionDetails?.(resource)?.execCommand;
    if (Array.isArray(exec) && exec.length > 0 && exec.every((x) => typeof x === 'string')) {
      return exec as string[];
    }
  } catch {
    // Fall through to python3.
  }
  return undefined;
}

/** Runs the interpreter's import check; resolves to the error text, or undefined when it passed. */
function check(launch: Launch, cwd: string | undefined): Promise<string | undefined> {
  if (launch.check === undefined) {
    return Promise.resolve(undefined);
  }
  return new Promise((resolve) => {
    execFile(launch.command, launch.check ?? [], { cwd, timeout: 30_000 }, (err, _stdout, stderr) => {
      if (err === null) {
        resolve(undefined);
      } else {
        const code = (err as NodeJS.ErrnoException).code;
        resolve(code === 'ENOENT' ? `${launch.command}: no such file` : stderr.toString() || err.message);
      }
    });
  });
}

/** Owns the language client; every (re)start reads the settings afresh. */
export class ServerManager implements vscode.Disposable {
  private client: LanguageClient | undefined;
  private busy: Promise<void> = Promise.resolve();
  /** The current client's first start is over (later Running states are its own restarts). */
  private started = false;

  constructor(
    private readonly output: vscode.LogOutputChannel,
    private readonly events: ServerEvents,
  ) {}

  get current(): LanguageClient | undefined {
    return this.client?.state === State.Running ? this.client : undefined;
  }

  /** Start, stop and restart are queued one after another: a burst of changes cannot interleave them. */
  private queue(step: () => Promise<void>): Promise<void> {
    this.busy = this.busy.then(step, step);
    return this.busy;
  }

  start(): Promise<void> {
    return this.queue(() => this.doStart());
  }

  stop(): Promise<void> {
    return this.queue(() => this.doStop());
  }

  restart(): Promise<void> {
    return this.queue(async () => {
      await this.doStop();
      await this.doStart();
    });
  }

  private async doStart(): Promise<void> {
    if (this.client !== undefined) {
      return;
    }
    this.events.starting();
    const config = vscode.workspace.getConfiguration(SECTION);
    const { settings, problems } = readSettings((key) => config.get(key));
    for (const p of problems) {
      this.output.warn(p);
      void vscode.window.showWarningMessage(`isgraph: ${p}`);
    }
    const folder = vscode.workspace.workspaceFolders?.[0];
    const launch = serverLaunch(
      settings,
      settings.command.length === 0 && settings.interpreter === ''
        ? await pythonExtensionInterpreter(folder?.uri)
        : undefined,
    );
    this.output.info(`starting ${JSON.stringify([launch.command, ...launch.args])} (from ${launch.source})`);
    const problem = await check(launch, folder?.uri.fsPath);
    if (problem !== undefined) {
      this.fail(notInstalledMessage(launch, problem));
      return;
    }
    const serverOptions: ServerOptions = {
      command: launch.command,
      args: launch.args,
      options: { cwd: folder?.uri.fsPath },
    };
    const events = this.events;
    const clientOptions: LanguageClientOptions = {
      documentSelector: LANGUAGES.map((language) => ({ scheme: 'file', language })),
      initializationOptions: initializationOptions(settings, vscode.workspace.isTrusted),
      outputChannel: this.output,
      traceOutputChannel: this.output,
      middleware: {
        // Feed the status bar, then let the client show its own progress UI too.
        handleWorkDoneProgress(_token, params, next) {
          events.progress(params as ProgressValue);
          next(_token, params);
        },
        // The server's code lens and code actions run its own `isgraph.impact`,
        // `isgraph.callers` and `isgraph.candidates`: show the answer, not nothing.
        async executeCommand(command, args, next) {
          const result: unknown = await next(command, args);
          if (isListCommand(command) && typeof args[0] === 'string') {
            void presentList(command, args[0], entityRecords(result));
          }
          return result;
        },
      },
    };
    const client = new LanguageClient('isgraph', 'isgraph', serverOptions, clientOptions);
    this.client = client;
    this.started = false;
    client.onDidChangeState((e) => {
      if (this.client !== client) {
        return;
      }
      if (e.newState === State.Stopped) {
        this.events.stopped();
      } else if (e.newState === State.Running && e.oldState === State.Starting && this.started) {
        // vscode-languageclient restarted a crashed server by itself: poll the new one.
        this.events.running(client);
      }
    });
    try {
      await client.start();
    } catch (err) {
      this.client = undefined;
      const message = err instanceof Error ? err.message : String(err);
      this.fail(notInstalledMessage(launch, message));
      return;
    }
    this.started = true;
    this.events.running(client);
  }

  private async doStop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (client !== undefined) {
      try {
        await client.stop(5_000);
      } catch (err) {
        this.output.warn(`stopping the server: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    this.events.stopped();
  }

  private fail(message: string): void {
    this.output.error(message);
    this.events.failed(message);
    void vscode.window.showErrorMessage(message, 'Open Settings', 'Show Output').then((choice) => {
      if (choice === 'Open Settings') {
        void vscode.commands.executeCommand('workbench.action.openSettings', SECTION);
      } else if (choice === 'Show Output') {
        this.output.show();
      }
    });
  }

  dispose(): void {
    void this.stop();
  }
}
