/**
 * What the status bar item says: a small state machine fed by `$/progress` and by stats /
 * freshness answers. Pure (no `vscode` import) so it is unit-tested under plain Node.
 */

export type Phase = 'starting' | 'indexing' | 'ready' | 'stopped' | 'failed';

export interface Status {
  phase: Phase;
  /** Files done / found while indexing, from the progress messages ("12/40 files"). */
  done?: number;
  total?: number;
  percentage?: number;
  /** From `isgraph.stats` (absent when the server does not support it). */
  entities?: number;
  files?: number;
  /** From `isgraph/query`: false while a first index or a re-index is pending. */
  fresh?: boolean;
  pendingFiles?: number;
  /** When the last index run ended (ms since the epoch). */
  indexedAt?: number;
  error?: string;
}

/** The numbers of a progress message such as "12/40 files"; undefined when it has none. */
export function parseProgressMessage(message: string | undefined): { done: number; total: number } | undefined {
  const m = /(\d+)\s*\/\s*(\d+)/.exec(message ?? '');
  return m ? { done: Number(m[1]), total: Number(m[2]) } : undefined;
}

export type ProgressValue =
  | { kind: 'begin'; title?: string; message?: string; percentage?: number }
  | { kind: 'report'; message?: string; percentage?: number }
  | { kind: 'end'; message?: string };

/** The status after one `$/progress` value. */
export function onProgress(s: Status, v: ProgressValue, now: number): Status {
  if (v.kind === 'end') {
    return { ...s, phase: 'ready', done: undefined, total: undefined, percentage: undefined, indexedAt: now };
  }
  const counts = parseProgressMessage(v.message);
  return {
    ...s,
    phase: 'indexing',
    done: counts?.done ?? s.done,
    total: counts?.total ?? s.total,
    percentage: v.percentage ?? s.percentage,
  };
}

const fmt = (n: number): string => n.toLocaleString('en-US');

/** "just now", "5 min ago", "2 h ago". */
export function ago(then: number, now: number): string {
  const s = Math.max(0, Math.round((now - then) / 1000));
  if (s < 60) {
    return 'just now';
  }
  if (s < 3600) {
    return `${Math.floor(s / 60)} min ago`;
  }
  return `${Math.floor(s / 3600)} h ago`;
}

/** Text (with a codicon) and tooltip of the status bar item. */
export function render(s: Status, now: number): { text: string; tooltip: string } {
  switch (s.phase) {
    case 'starting':
      return { text: '$(sync~spin) isgraph', tooltip: 'isgraph: starting the language server' };
    case 'stopped':
      return { text: '$(circle-slash) isgraph', tooltip: 'isgraph: server stopped. Click for statistics; run "isgraph: Restart server" to start it.' };
    case 'failed':
      return { text: '$(error) isgraph', tooltip: `isgraph: ${s.error ?? 'the server failed'}` };
    case 'indexing': {
      const counts = s.total !== undefined ? ` ${fmt(s.done ?? 0)}/${fmt(s.total)}` : '';
      const pct = s.percentage !== undefined ? ` (${s.percentage}%)` : '';
      return { text: `$(sync~spin) isgraph${counts}`, tooltip: `isgraph: indexing${counts} files${pct}` };
    }
    case 'ready': {
      const entities = s.entities !== undefined ? ` ${fmt(s.entities)}` : '';
      const stale = s.fresh === false;
      const icon = stale ? '$(history)' : '$(type-hierarchy)';
      const freshness = stale
        ? `re-indexing${s.pendingFiles ? ` ${fmt(s.pendingFiles)} file${s.pendingFiles === 1 ? '' : 's'}` : ''}`
        : 'up to date';
      const when = s.indexedAt !== undefined ? `, indexed ${ago(s.indexedAt, now)}` : '';
      const what = s.entities !== undefined ? `${fmt(s.entities)} entities in ${fmt(s.files ?? 0)} files` : 'indexed';
      return {
        text: `${icon} isgraph${entities}`,
        tooltip: `isgraph: ${what}; ${freshness}${when}. Click for statistics.`,
      };
    }
  }
}
