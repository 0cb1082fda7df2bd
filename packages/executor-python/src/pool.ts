import { performance } from 'node:perf_hooks';
import { StepcoderError } from '@stepcoder/core';
import { type JobEnd, type JobHooks, PythonWorker, type WorkerInfo, type WorkerSpec } from './worker.js';

export interface PythonPoolOptions {
  /** Most workers alive at once. */
  size: number;
  spec: WorkerSpec;
}

export interface PoolStats {
  size: number;
  idle: number;
  busy: number;
  /** Workers started so far (more than `size` means dead workers were replaced). */
  started: number;
}

/**
 * A fixed-size pool of warm harness workers. Jobs queue FIFO when all workers are busy; a worker
 * that died or had to be killed is dropped and a fresh one started for the next job.
 */
export class PythonPool {
  private readonly idle: PythonWorker[] = [];
  private readonly busy = new Set<PythonWorker>();
  private readonly waiters: Array<() => void> = [];
  private starting = 0;
  private started = 0;
  private disposed = false;

  constructor(private readonly options: PythonPoolOptions) {}

  get size(): number {
    return this.options.size;
  }

  stats(): PoolStats {
    return { size: this.options.size, idle: this.idle.length, busy: this.busy.size, started: this.started };
  }

  /** Start every worker now instead of on first use. */
  async warm(): Promise<void> {
    const workers = await Promise.all(Array.from({ length: this.options.size }, () => this.acquire()));
    for (const w of workers) this.release(w);
  }

  /**
   * Run one harness job on the next free worker. Rejects only when no worker can be started. The
   * job's time limits start when a worker takes it: `queueMs` is the wait before that.
   */
  async run(jobLine: string, hooks: JobHooks): Promise<JobEnd & { queueMs: number }> {
    const queued = performance.now();
    const worker = await this.acquire();
    const queueMs = Math.round((performance.now() - queued) * 1000) / 1000;
    try {
      return { ...(await worker.run(jobLine, hooks)), queueMs };
    } finally {
      this.release(worker);
    }
  }

  /** Start-up report of a live worker (sandbox mode, interpreter version). */
  workerInfo(): WorkerInfo | undefined {
    return [...this.idle, ...this.busy].find((w) => w.alive)?.info;
  }

  /** Pids of the live workers (for leak checks). */
  workerPids(): number[] {
    return [...this.idle, ...this.busy].filter((w) => w.alive).map((w) => w.pid!);
  }

  private async acquire(): Promise<PythonWorker> {
    for (;;) {
      if (this.disposed) throw new StepcoderError('EXECUTOR_INFRA', 'The Python executor was disposed');
      const idle = this.idle.pop();
      if (idle) {
        if (!idle.alive) continue;
        this.busy.add(idle);
        return idle;
      }
      if (this.busy.size + this.starting < this.options.size) {
        this.starting++;
        try {
          const worker = await this.startWorker();
          this.started++;
          if (this.disposed) {
            await worker.close();
            continue;
          }
          this.busy.add(worker);
          return worker;
        } finally {
          this.starting--;
          this.waiters.shift()?.();
        }
      }
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  /** Slots in use, one per live worker: each slot's candidates run as their own uid. */
  private readonly slots = new Map<PythonWorker, number>();

  private async startWorker(): Promise<PythonWorker> {
    const used = new Set(this.slots.values());
    let slot = 0;
    while (used.has(slot)) slot++;
    // Reserved before the await, so a concurrent start picks another slot.
    const placeholder = {} as PythonWorker;
    this.slots.set(placeholder, slot);
    try {
      const spec = { ...this.options.spec, env: { ...this.options.spec.env, STEPCODER_SLOT: String(slot) } };
      const worker = await PythonWorker.start(spec);
      this.slots.set(worker, slot);
      void worker.closed.then(() => this.slots.delete(worker));
      return worker;
    } finally {
      this.slots.delete(placeholder);
    }
  }

  private release(worker: PythonWorker): void {
    this.busy.delete(worker);
    if (worker.alive && !this.disposed) this.idle.push(worker);
    else if (worker.alive) void worker.close();
    this.waiters.shift()?.();
  }

  /** Stop every worker (killing running programs) and wait for them to exit. Idempotent. */
  async dispose(): Promise<void> {
    this.disposed = true;
    for (const wake of this.waiters.splice(0)) wake();
    const all = [...this.idle.splice(0), ...this.busy];
    await Promise.all(all.map((w) => w.close()));
  }
}
