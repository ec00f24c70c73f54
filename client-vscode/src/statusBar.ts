/** The status bar item: indexing progress, then entity count and freshness; a click shows stats. */
import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';

import { fetchStats } from './commands';
import { freshness } from './protocol';
import { onProgress, type ProgressValue, render, type Status } from './status';

const POLL_MS = 10_000; // freshness: one cheap isgraph/query every 10 s while the server runs

export class StatusBar implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;
  private status: Status = { phase: 'starting' };
  private timer: ReturnType<typeof setInterval> | undefined;
  private statsSupported = true;

  constructor(
    command: string,
    private readonly output: vscode.LogOutputChannel,
  ) {
    this.item = vscode.window.createStatusBarItem('isgraph.status', vscode.StatusBarAlignment.Left, 10);
    this.item.name = 'isgraph';
    this.item.command = command;
    this.redraw();
    this.item.show();
  }

  private set(next: Status): void {
    this.status = next;
    this.redraw();
  }

  private redraw(): void {
    const { text, tooltip } = render(this.status, Date.now());
    this.item.text = text;
    this.item.tooltip = tooltip;
  }

  starting(): void {
    this.stopPolling();
    this.statsSupported = true;
    this.set({ phase: 'starting' });
  }

  stopped(): void {
    this.stopPolling();
    this.set({ ...this.status, phase: 'stopped' });
  }

  failed(error: string): void {
    this.stopPolling();
    this.set({ phase: 'failed', error });
  }

  progress(value: ProgressValue, client: LanguageClient | undefined): void {
    this.set(onProgress(this.status, value, Date.now()));
    if (value.kind === 'end' && client !== undefined) {
      void this.refresh(client, true);
    }
  }

  running(client: LanguageClient): void {
    this.stopPolling();
    this.timer = setInterval(() => void this.refresh(client, false), POLL_MS);
    void this.refresh(client, true);
  }

  /** Asks the server how fresh the index is (and, with `withStats`, its counts). */
  async refresh(client: LanguageClient, withStats: boolean): Promise<void> {
    const wasFresh = this.status.fresh;
    let fresh: boolean | undefined;
    try {
      const answer: unknown = await client.sendRequest('isgraph/query', {
        query: 'search',
        target: 'isgraph-status',
        limit: 1,
      });
      const f = freshness(answer);
      if (f !== undefined) {
        fresh = f.fresh;
        let next: Status = { ...this.status, fresh: f.fresh, pendingFiles: f.pendingFiles };
        // A server that never reported progress (or whose end we missed) is ready once fresh.
        if (f.fresh && next.phase === 'starting') {
          next = { ...next, phase: 'ready', indexedAt: next.indexedAt ?? Date.now() };
        }
        this.set(next);
      }
    } catch (err) {
      this.output.debug(`isgraph/query for freshness: ${err instanceof Error ? err.message : String(err)}`);
    }
    // Counts after an index run, and when a re-index has just caught up.
    if (!this.statsSupported || !(withStats || (fresh === true && wasFresh === false))) {
      return;
    }
    try {
      const stats = await fetchStats(client);
      if (stats === 'unsupported') {
        this.statsSupported = false; // an older server: freshness without counts
      } else if (stats !== undefined) {
        this.set({ ...this.status, entities: stats.entities, files: stats.files });
      }
    } catch (err) {
      this.output.debug(`isgraph.stats: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  private stopPolling(): void {
    if (this.timer !== undefined) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  dispose(): void {
    this.stopPolling();
    this.item.dispose();
  }
}
