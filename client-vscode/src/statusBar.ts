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

  constructor(command: string) {
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
    try {
      const answer: unknown = await client.sendRequest('isgraph/query', {
        query: 'search',
        target: 'isgraph-status',
        limit: 1,
      });
      const f = freshness(answer);
      let next: Status = { ...this.status };
      if (f !== undefined) {
        next = { ...next, fresh: f.fresh, pendingFiles: f.pendingFiles };
        // A server that never reported progress (or whose end we missed) is ready once fresh.
        if (f.fresh && next.phase === 'starting') {
          next = { ...next, phase: 'ready', indexedAt: next.indexedAt ?? Date.now() };
        }
      }
      if ((withStats || (f?.fresh && this.status.fresh === false)) && this.statsSupported) {
        const stats = await fetchStats(client);
        if (stats === undefined) {
          this.statsSupported = false; // an older server: show freshness without counts
        } else {
          next = { ...next, entities: stats.entities, files: stats.files };
        }
      }
      this.set(next);
    } catch {
      // The server is restarting or gone: the state events say so.
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
