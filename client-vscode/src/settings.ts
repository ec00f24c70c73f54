/**
 * Typed settings of the extension and what they mean for the server's start-up.
 *
 * Pure (no `vscode` import), so the unit tests run under plain Node.
 */

export type Trace = 'off' | 'messages' | 'verbose';

/** One downstream language server, as the isgraph server reads it (`initializationOptions.downstream`). */
export interface DownstreamServer {
  name: string;
  command: string[];
  languages: string[];
  timeout_ms?: number;
  initialization_options?: Record<string, unknown>;
  settings?: Record<string, unknown>;
}

export interface Settings {
  /** Python interpreter that has isgraph installed; '' = the Python extension's, else python3. */
  interpreter: string;
  /** A full command line that starts the server; wins over `interpreter` when non-empty. */
  command: string[];
  /** Store connection string; '' = the workspace's configuration / the embedded default. */
  db: string;
  excludes: string[];
  downstream: DownstreamServer[];
  trace: Trace;
}

export const DEFAULTS: Settings = {
  interpreter: '',
  command: [],
  db: '',
  excludes: [],
  downstream: [],
  trace: 'off',
};

/** Settings whose change restarts the server (every key under `isgraph.`). */
export const SECTION = 'isgraph';

/** Reads a value of the `isgraph` section, e.g. `get('db')`. */
export type Getter = (key: string) => unknown;

export interface ReadResult {
  settings: Settings;
  /** One line per ignored value, naming the setting: a typo must not pass silently. */
  problems: string[];
}

const isStringArray = (v: unknown): v is string[] =>
  Array.isArray(v) && v.every((x) => typeof x === 'string');

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function readDownstream(v: unknown, problems: string[]): DownstreamServer[] {
  if (v === undefined || v === null) {
    return [];
  }
  if (!Array.isArray(v)) {
    problems.push('isgraph.downstream must be a list of servers; ignored');
    return [];
  }
  const out: DownstreamServer[] = [];
  v.forEach((item: unknown, i: number) => {
    const where = `isgraph.downstream[${i}]`;
    if (!isObject(item)) {
      problems.push(`${where} must be an object; ignored`);
      return;
    }
    const { name, command, languages, timeout_ms } = item;
    if (typeof name !== 'string' || name === '') {
      problems.push(`${where}.name must be a non-empty string; server ignored`);
      return;
    }
    if (!isStringArray(command) || command.length === 0) {
      problems.push(`${where}.command must be a non-empty list of strings; server ignored`);
      return;
    }
    if (!isStringArray(languages)) {
      problems.push(`${where}.languages must be a list of strings; server ignored`);
      return;
    }
    const server: DownstreamServer = { name, command, languages };
    if (timeout_ms !== undefined) {
      if (typeof timeout_ms !== 'number' || !Number.isInteger(timeout_ms) || timeout_ms < 1) {
        problems.push(`${where}.timeout_ms must be a positive integer; default used`);
      } else {
        server.timeout_ms = timeout_ms;
      }
    }
    if (isObject(item.initialization_options)) {
      server.initialization_options = item.initialization_options;
    }
    if (isObject(item.settings)) {
      server.settings = item.settings;
    }
    out.push(server);
  });
  return out;
}

/** The settings, each wrong-typed value replaced by its default and reported. */
export function readSettings(get: Getter): ReadResult {
  const problems: string[] = [];
  const str = (key: string): string => {
    const v = get(key);
    if (v === undefined || v === null) {
      return '';
    }
    if (typeof v !== 'string') {
      problems.push(`isgraph.${key} must be a string; ignored`);
      return '';
    }
    return v.trim();
  };
  const list = (key: string): string[] => {
    const v = get(key);
    if (v === undefined || v === null) {
      return [];
    }
    if (!isStringArray(v)) {
      problems.push(`isgraph.${key} must be a list of strings; ignored`);
      return [];
    }
    return v;
  };
  const traceValue = get('trace.server');
  let trace: Trace = 'off';
  if (traceValue === 'messages' || traceValue === 'verbose' || traceValue === 'off') {
    trace = traceValue;
  } else if (traceValue !== undefined && traceValue !== null) {
    problems.push(`isgraph.trace.server must be off, messages or verbose; off used`);
  }
  return {
    settings: {
      interpreter: str('interpreter'),
      command: list('command'),
      db: str('db'),
      excludes: list('excludes'),
      downstream: readDownstream(get('downstream'), problems),
      trace,
    },
    problems,
  };
}

/**
 * `initializationOptions` for the server: the keys of `[tool.isgraph]` that are set here
 * (an unset key leaves the workspace's own configuration in force).
 */
export function initializationOptions(s: Settings, trusted?: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  // VS Code's workspace trust: the server honours `db` / `downstream` from the workspace's own
  // files (pyproject.toml, .isgraph.toml) only in a trusted workspace (docs/security.md).
  if (trusted !== undefined) {
    out.trustWorkspace = trusted;
  }
  if (s.db !== '') {
    out.db = s.db;
  }
  if (s.excludes.length > 0) {
    out.excludes = s.excludes;
  }
  if (s.downstream.length > 0) {
    out.downstream = s.downstream;
  }
  return out;
}

/** How the server is started. `interpreter` is set when it runs as `<python> -m isgraph serve`. */
export interface Launch {
  command: string;
  args: string[];
  interpreter?: string;
  /** Arguments that make the interpreter check isgraph is importable (interpreter launches). */
  check?: string[];
  /** Where the interpreter came from, for messages: setting, Python extension or default. */
  source: 'isgraph.command' | 'isgraph.interpreter' | 'Python extension' | 'default';
}

/**
 * The server's command line: `isgraph.command`, else `<interpreter> -m isgraph serve` with
 * `isgraph.interpreter`, else the Python extension's interpreter (its argv, which may be
 * e.g. `conda run … python`), else `python3`.
 */
export function serverLaunch(s: Settings, pythonExtension?: string[]): Launch {
  if (s.command.length > 0) {
    return { command: s.command[0], args: s.command.slice(1), source: 'isgraph.command' };
  }
  const serve = ['-m', 'isgraph', 'serve'];
  const check = ['-c', 'import isgraph.lsp.server'];
  if (s.interpreter !== '') {
    return {
      command: s.interpreter,
      args: serve,
      interpreter: s.interpreter,
      check,
      source: 'isgraph.interpreter',
    };
  }
  if (pythonExtension !== undefined && pythonExtension.length > 0 && pythonExtension[0] !== '') {
    return {
      command: pythonExtension[0],
      args: [...pythonExtension.slice(1), ...serve],
      interpreter: pythonExtension.join(' '),
      check: [...pythonExtension.slice(1), ...check],
      source: 'Python extension',
    };
  }
  return { command: 'python3', args: serve, interpreter: 'python3', check, source: 'default' };
}

/**
 * The MCP server's command line for a workspace folder, from the language server's launch:
 * its final `serve` becomes `mcp --root ROOT`. Undefined when `isgraph.command` does not end
 * in `serve` (then there is no telling how to start `isgraph mcp` with it).
 */
export function mcpLaunch(launch: Launch, root: string): { command: string; args: string[] } | undefined {
  const args = launch.args;
  if (args.length === 0 || args[args.length - 1] !== 'serve') {
    return undefined;
  }
  return { command: launch.command, args: [...args.slice(0, -1), 'mcp', '--root', root] };
}

/** The message shown when the server cannot start, with the fix. */
export function notInstalledMessage(launch: Launch, detail: string): string {
  const why = detail.trim().split('\n').pop() ?? '';
  if (launch.interpreter !== undefined) {
    return (
      `isgraph is not installed in ${launch.interpreter} (from ${launch.source})` +
      (why ? `: ${why}` : '') +
      `. Fix: run \`${launch.interpreter} -m pip install isgraph\`, or set ` +
      '"isgraph.interpreter" to a Python that has it, or "isgraph.command" to the server\'s command line.'
    );
  }
  return (
    `isgraph's server command ${JSON.stringify([launch.command, ...launch.args])} (from ${launch.source}) ` +
    `could not be started` +
    (why ? `: ${why}` : '') +
    '. Fix: correct "isgraph.command", or clear it and set "isgraph.interpreter" to a Python that has isgraph installed.'
  );
}
