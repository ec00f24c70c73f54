/**
 * Shapes of isgraph's answers and how to tell "this server does not support that yet" from a
 * real failure. Pure (no `vscode` import) so it is unit-tested under plain Node.
 */

/** JSON-RPC "method not found": an old server without `workspace/executeCommand` at all. */
export const METHOD_NOT_FOUND = -32601;

/** An entity record as the CLI's `--json` and `isgraph/query` give it. */
export interface EntityRecord {
  key: string;
  name: string;
  qualname?: string;
  kind?: string;
  path: string;
  start_line?: number;
  signature?: string;
  depth?: number;
}

export interface StatsRecord {
  files: number;
  entities: number;
  edges: number;
  [key: string]: unknown;
}

/**
 * Whether a server command is unsupported: the server advertised its commands and this is not
 * one of them, or the request failed with "method not found" / an "unknown command" error.
 */
export function isUnsupported(
  command: string,
  advertised: readonly string[] | undefined,
  error?: { code?: unknown; message?: unknown },
): boolean {
  if (error === undefined) {
    return advertised !== undefined && !advertised.includes(command);
  }
  if (error.code === METHOD_NOT_FOUND) {
    return true;
  }
  const message = typeof error.message === 'string' ? error.message : '';
  return /unknown command|not (?:found|supported|registered|defined)|no such command|unhandled method/i.test(message);
}

const isRecord = (v: unknown): v is EntityRecord =>
  typeof v === 'object' && v !== null && typeof (v as EntityRecord).key === 'string' &&
  typeof (v as EntityRecord).path === 'string';

/** Entity records from an answer: a list, or an object with `results` (`isgraph/query`) or `entities`. */
export function entityRecords(answer: unknown): EntityRecord[] {
  const list: unknown = Array.isArray(answer)
    ? answer
    : typeof answer === 'object' && answer !== null
      ? ((answer as { results?: unknown; entities?: unknown }).results ??
        (answer as { entities?: unknown }).entities)
      : undefined;
  return Array.isArray(list) ? list.filter(isRecord) : [];
}

/** Stats from an answer to `isgraph.stats`, or undefined when it is not one. */
export function statsRecord(answer: unknown): StatsRecord | undefined {
  if (typeof answer !== 'object' || answer === null) {
    return undefined;
  }
  const a = answer as Record<string, unknown>;
  const inner = typeof a.stats === 'object' && a.stats !== null ? (a.stats as Record<string, unknown>) : a;
  if (typeof inner.entities !== 'number' || typeof inner.files !== 'number') {
    return undefined;
  }
  return { ...inner, files: inner.files, entities: inner.entities, edges: Number(inner.edges ?? 0) };
}

/** Freshness from an `isgraph/query` answer. */
export function freshness(answer: unknown): { fresh: boolean; pendingFiles: number } | undefined {
  if (typeof answer !== 'object' || answer === null) {
    return undefined;
  }
  const a = answer as { fresh?: unknown; pending_files?: unknown };
  if (typeof a.fresh !== 'boolean') {
    return undefined;
  }
  return { fresh: a.fresh, pendingFiles: typeof a.pending_files === 'number' ? a.pending_files : 0 };
}

/** Quick-pick fields for one impacted entity. */
export function impactItem(r: EntityRecord): { label: string; description: string; detail: string } {
  const depth = r.depth !== undefined ? `depth ${r.depth} · ` : '';
  return {
    label: r.name,
    description: `${r.kind ?? ''} ${r.qualname ?? ''}`.trim(),
    detail: `${depth}${r.path}${r.start_line !== undefined ? `:${r.start_line}` : ''}`,
  };
}

/** The server commands whose answers are entity lists the extension shows (code lens, code actions). */
export const LIST_COMMANDS = ['isgraph.impact', 'isgraph.callers', 'isgraph.candidates'] as const;
export type ListCommand = (typeof LIST_COMMANDS)[number];

export function isListCommand(command: string): command is ListCommand {
  return (LIST_COMMANDS as readonly string[]).includes(command);
}

/**
 * What the quick pick of a list command's answer says: its title, and the message shown
 * instead when the list is empty. `target` is the command's argument (a key or a name).
 */
export function listPresentation(
  command: ListCommand,
  target: string,
  count: number,
  fresh = true,
): { title: string; empty: string } {
  const name = target.split(':').pop() ?? target;
  const updating = fresh ? '' : ' (index updating)';
  const still = fresh ? '' : ' (the index is still being updated)';
  const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;
  switch (command) {
    case 'isgraph.callers':
      return {
        title: `isgraph: callers of ${name} — ${plural(count, 'caller', 'callers')}${updating}`,
        empty: `isgraph: nothing calls ${name}${still}.`,
      };
    case 'isgraph.candidates':
      return {
        title: `isgraph: definitions named ${name} — ${plural(count, 'candidate', 'candidates')}${updating}`,
        empty: `isgraph: nothing is named ${name}${still}.`,
      };
    default:
      return {
        title: `isgraph: impact of ${name} — ${plural(count, 'dependent', 'dependents')}${updating}`,
        empty: `isgraph: nothing depends on ${name}${still}.`,
      };
  }
}
