import type ivm from 'isolated-vm';
import { HARNESS_SOURCE } from './harness-source.js';
import { loadIsolatedVm } from './isolated-vm.js';

// Loaded when this module is: an unbuilt addon fails the import with the fix, not a bare require error.
const { Isolate } = loadIsolatedVm();

let live = 0;

/** Isolates created by this package and not yet disposed, process-wide (leak checks, metrics). */
export function liveIsolateCount(): number {
  return live;
}

/** One isolate with its compiled harness; contexts are created per test and released after. */
export class PooledIsolate {
  readonly isolate: ivm.Isolate;
  readonly harness: ivm.Script;
  runs = 0;
  private disposed = false;

  constructor(readonly memoryMb: number) {
    this.isolate = new Isolate({ memoryLimit: memoryMb });
    live++;
    try {
      this.harness = this.isolate.compileScriptSync(HARNESS_SOURCE, { filename: 'stepcoder-harness.js' });
    } catch (err) {
      this.dispose();
      throw err;
    }
  }

  /** Dead: disposed by us, by the memory limit, or by the watchdog. */
  get dead(): boolean {
    return this.disposed || this.isolate.isDisposed;
  }

  /** Used heap as a fraction of the limit; 1 when it cannot be read. */
  heapFraction(): number {
    if (this.dead) return 1;
    try {
      const stats = this.isolate.getHeapStatisticsSync();
      return (stats.used_heap_size + stats.externally_allocated_size) / (this.memoryMb * 1024 * 1024);
    } catch {
      return 1;
    }
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    live--;
    try {
      if (!this.isolate.isDisposed) this.isolate.dispose();
    } catch {
      // already torn down by isolated-vm (memory limit): nothing left to release
    }
  }
}

export interface IsolatePoolOptions {
  size: number;
  maxRunsPerIsolate: number;
  maxHeapFraction: number;
}

/**
 * A bounded set of warm isolates. `acquire` hands one out for a whole program run (its tests run
 * one after another, each in a fresh context), waiting when all are busy; `release` returns it or
 * replaces it when it died, served its quota of runs, or kept too much heap.
 */
export class IsolatePool {
  private readonly idle: PooledIsolate[] = [];
  private readonly waiters: Array<() => void> = [];
  private busy = 0;
  private closed = false;

  constructor(readonly options: IsolatePoolOptions) {}

  async acquire(memoryMb: number): Promise<PooledIsolate> {
    while (this.busy >= this.options.size) {
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
    if (this.closed) throw new Error('the executor was disposed');
    this.busy++;
    try {
      const i = this.idle.findIndex((p) => p.memoryMb === memoryMb && !p.dead);
      if (i >= 0) return this.idle.splice(i, 1)[0]!;
      // Keep at most `size` isolates alive: drop an idle one of another memory size first.
      if (this.idle.length + this.busy > this.options.size) this.idle.shift()?.dispose();
      return new PooledIsolate(memoryMb);
    } catch (err) {
      this.busy--;
      this.wakeOne();
      throw err;
    }
  }

  /** A fresh isolate replacing one that died in the middle of a run (the slot stays held). */
  replace(dead: PooledIsolate): PooledIsolate {
    dead.dispose();
    return new PooledIsolate(dead.memoryMb);
  }

  release(p: PooledIsolate): void {
    this.busy--;
    p.runs++;
    if (
      this.closed ||
      p.dead ||
      p.runs >= this.options.maxRunsPerIsolate ||
      p.heapFraction() > this.options.maxHeapFraction
    ) {
      p.dispose();
    } else {
      this.idle.push(p);
    }
    this.wakeOne();
  }

  private wakeOne(): void {
    this.waiters.shift()?.();
  }

  get idleCount(): number {
    return this.idle.length;
  }

  get busyCount(): number {
    return this.busy;
  }

  /** Dispose idle isolates now; busy ones are disposed when their run releases them. */
  dispose(): void {
    this.closed = true;
    for (const p of this.idle.splice(0)) p.dispose();
    for (const wake of this.waiters.splice(0)) wake();
  }
}
