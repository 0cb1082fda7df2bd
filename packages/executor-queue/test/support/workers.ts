import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Lane, QueueWorkerSettings } from '../../src/base.js';

const ENTRY = fileURLToPath(new URL('./worker-process.ts', import.meta.url));

export interface WorkerLine {
  event: string;
  pid: number;
  jobId?: string;
  [key: string]: unknown;
}

export interface WorkerProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Every JSON line it logged so far. */
  readonly lines: WorkerLine[];
  /** Resolves with the first line (already logged or future) that matches. */
  waitFor(match: (line: WorkerLine) => boolean, timeoutMs?: number): Promise<WorkerLine>;
  /** Resolves when the process has exited (with its signal, if any). */
  readonly exited: Promise<NodeJS.Signals | number | null>;
  /** SIGTERM and wait for the graceful exit; returns its final counters. */
  stop(): Promise<WorkerLine | undefined>;
}

export interface SpawnWorkerOptions extends QueueWorkerSettings {
  lanes?: Lane[];
  poisonMarker?: string;
}

/**
 * A real worker process (node + tsx on test/support/worker-process.ts), ready to take jobs when
 * the promise resolves. Killing it with SIGKILL is a real crash: BullMQ only sees a lock expire.
 */
export async function spawnWorker(options: SpawnWorkerOptions): Promise<WorkerProcess> {
  const { lanes = ['python'], ...rest } = options;
  const child = spawn(process.execPath, ['--import', 'tsx', ENTRY], {
    env: { ...process.env, STEPCODER_TEST_WORKER: JSON.stringify({ lanes, ...rest }) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: WorkerLine[] = [];
  const waiters = new Set<{ match: (l: WorkerLine) => boolean; resolve: (l: WorkerLine) => void }>();
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  createInterface({ input: child.stdout! }).on('line', (text) => {
    let line: WorkerLine;
    try {
      line = JSON.parse(text) as WorkerLine;
    } catch {
      return;
    }
    lines.push(line);
    for (const w of [...waiters]) {
      if (w.match(line)) {
        waiters.delete(w);
        w.resolve(line);
      }
    }
  });
  const exited = new Promise<NodeJS.Signals | number | null>((resolve) =>
    child.once('exit', (code, signal) => resolve(signal ?? code)),
  );
  const waitFor = (match: (l: WorkerLine) => boolean, timeoutMs = 20_000) => {
    const found = lines.find(match);
    if (found) return Promise.resolve(found);
    return new Promise<WorkerLine>((resolve, reject) => {
      const waiter = { match, resolve };
      waiters.add(waiter);
      const timer = setTimeout(() => {
        waiters.delete(waiter);
        reject(new Error(`worker ${child.pid}: no matching line in ${timeoutMs} ms; stderr: ${stderr}`));
      }, timeoutMs);
      void exited.then(() => {
        setTimeout(() => {
          if (!waiters.has(waiter)) return;
          clearTimeout(timer);
          waiters.delete(waiter);
          reject(new Error(`worker ${child.pid} exited before the line came; stderr: ${stderr}`));
        }, 50);
      });
      const original = waiter.resolve;
      waiter.resolve = (l) => {
        clearTimeout(timer);
        original(l);
      };
    });
  };
  await waitFor((l) => l.event === 'ready', 60_000);
  return {
    child,
    pid: child.pid!,
    lines,
    waitFor,
    exited,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return undefined;
      child.kill('SIGTERM');
      await exited;
      return lines.find((l) => l.event === 'stopped');
    },
  };
}

/** Jobs each worker started (from its `job-start` lines), by job id. */
export function startsOf(workers: WorkerProcess[], jobId: string): number[] {
  return workers.map((w) => w.lines.filter((l) => l.event === 'job-start' && l.jobId === jobId).length);
}

/** The first line, from any of the workers, that matches (polls their logs). */
export async function waitForAny(
  workers: WorkerProcess[],
  match: (line: WorkerLine) => boolean,
  timeoutMs = 20_000,
): Promise<WorkerLine> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    for (const w of workers) {
      const found = w.lines.find(match);
      if (found) return found;
    }
    if (Date.now() > until) throw new Error(`no worker logged a matching line in ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
