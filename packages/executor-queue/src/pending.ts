import type { ExecutionResult } from '@stepcoder/core';
import type { Lane } from './options.js';

interface Entry {
  lane: Lane;
  /** Tests the request meant to run: the `total` of an infra_error result. */
  total: number;
  createdAt: number;
  resolve(result: ExecutionResult): void;
  reject(error: Error): void;
  cleanup(): void;
}

/**
 * Jobs awaiting their result. Each settles exactly once: a job that ran twice (its first worker
 * was killed after finishing but before acking, or an event and a lookup both saw it) still
 * gives its caller one result, so one sample never earns two rewards.
 */
export class PendingJobs {
  private readonly entries = new Map<string, Entry>();
  /** Ids settled lately (bounded), so that a second result for one of them can be told apart
   * from the results of other callers' jobs on the same queue. */
  private readonly settled = new Set<string>();
  private static readonly SETTLED_KEPT = 10_000;

  add(id: string, entry: Entry): void {
    this.entries.set(id, entry);
  }

  get size(): number {
    return this.entries.size;
  }

  has(id: string): boolean {
    return this.entries.has(id);
  }

  /** Settle with a result; returns false (and does nothing) when the job already settled. */
  resolve(id: string, toResult: (total: number) => ExecutionResult): boolean {
    const entry = this.take(id);
    if (!entry) return false;
    entry.resolve(toResult(entry.total));
    return true;
  }

  reject(id: string, error: Error): boolean {
    const entry = this.take(id);
    if (!entry) return false;
    entry.reject(error);
    return true;
  }

  /** Ids with their lane, oldest first, created before `before` (ms since epoch). */
  olderThan(before: number): Array<{ id: string; lane: Lane; createdAt: number }> {
    const out: Array<{ id: string; lane: Lane; createdAt: number }> = [];
    for (const [id, e] of this.entries)
      if (e.createdAt < before) out.push({ id, lane: e.lane, createdAt: e.createdAt });
    return out;
  }

  /** Whether this id was settled lately: a result arriving for it now is a duplicate. */
  wasSettled(id: string): boolean {
    return this.settled.has(id);
  }

  ids(): string[] {
    return [...this.entries.keys()];
  }

  private take(id: string): Entry | undefined {
    const entry = this.entries.get(id);
    if (!entry) return undefined;
    this.entries.delete(id);
    this.settled.add(id);
    if (this.settled.size > PendingJobs.SETTLED_KEPT) {
      this.settled.delete(this.settled.values().next().value as string);
    }
    entry.cleanup();
    return entry;
  }
}
