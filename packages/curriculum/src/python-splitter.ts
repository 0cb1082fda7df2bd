import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** Raw answer of the Python script for one program: `[line, firstToken]` pairs or the parse error. */
export type PythonPointsResult = { ok: true; points: Array<[number, string]> } | { ok: false; error: string };

export interface PythonSplitterOptions {
  /** Python 3.8+ interpreter (3.10+ for `match`). Default `python3`. */
  python?: string;
  /** Programs per request line; bounds the work one timeout covers. Default 256. */
  batchSize?: number;
  /** Wall time one request may take before the process is killed and the batch falls back. Default 30 s. */
  timeoutMs?: number;
  /** The process exits after this long without requests; the next request starts a new one. Default 2 s. */
  idleMs?: number;
}

/** The script shipped in `python/`: one level above both `src/` and `dist/`. */
export const SPLIT_SCRIPT = fileURLToPath(new URL('../python/split_points.py', import.meta.url));

interface Pending {
  resolve: (results: PythonPointsResult[]) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

/**
 * One long-lived `python3 split_points.py` process that parses many programs per request with
 * Python's own `ast`. Requests are pipelined over stdin/stdout as JSON lines. The process is
 * started on first use, exits after `idleMs` of quiet, and never keeps Node alive on its own.
 * Failures (no python3, crash, timeout) reject the request; `splitPrograms` turns that into a
 * `lines-fallback` result, so the trainer's path never throws.
 */
export class PythonSplitter {
  readonly python: string;
  readonly batchSize: number;
  readonly timeoutMs: number;
  readonly idleMs: number;
  private child: ChildProcessWithoutNullStreams | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private idleTimer: NodeJS.Timeout | undefined;
  private spawned = 0;
  private readonly queue: Array<{
    source: string;
    resolve: (r: PythonPointsResult) => void;
    reject: (e: Error) => void;
  }> = [];
  private flushScheduled = false;

  constructor(options: PythonSplitterOptions = {}) {
    this.python = options.python ?? 'python3';
    this.batchSize = options.batchSize ?? 256;
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.idleMs = options.idleMs ?? 2_000;
  }

  /** Processes started so far (one per busy period, not one per program). */
  get spawnCount(): number {
    return this.spawned;
  }

  /**
   * Parse `sources`, in order. Rejects only when the Python process itself failed. Calls made in
   * the same turn of the event loop are coalesced into one request of up to `batchSize` programs.
   */
  split(sources: readonly string[]): Promise<PythonPointsResult[]> {
    return Promise.all(sources.map((source) => this.enqueue(source)));
  }

  private enqueue(source: string): Promise<PythonPointsResult> {
    return new Promise((resolve, reject) => {
      this.queue.push({ source, resolve, reject });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.flushScheduled = false;
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.batchSize);
      this.request(batch.map((b) => b.source)).then(
        (results) => {
          batch.forEach((b, i) => {
            const r = results[i];
            if (r) b.resolve(r);
            else
              b.reject(new Error(`Python splitter answered ${results.length} of ${batch.length} programs`));
          });
        },
        (err: Error) => {
          for (const b of batch) b.reject(err);
        },
      );
    }
  }

  /** Stop the process now (pending requests are rejected). */
  async close(): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.detach(new Error('Python splitter closed'));
    if (child.exitCode === null && child.signalCode === null) {
      await new Promise<void>((resolve) => {
        // Ref'd on purpose: the child is unref'd, and an awaited close() must not let Node exit
        // with the promise unsettled.
        const killer = setTimeout(() => {
          child.kill('SIGKILL');
          resolve();
        }, 1000);
        const done = () => {
          clearTimeout(killer);
          resolve();
        };
        child.once('exit', done);
        child.once('error', done);
        child.stdin.end();
      });
    }
  }

  private request(sources: string[]): Promise<PythonPointsResult[]> {
    if (sources.length === 0) return Promise.resolve([]);
    return new Promise((resolve, reject) => {
      let child: ChildProcessWithoutNullStreams;
      try {
        child = this.ensureChild();
      } catch (err) {
        reject(err instanceof Error ? err : new Error(String(err)));
        return;
      }
      const id = this.nextId++;
      // A ref'd timer keeps Node alive while a request is in flight (the child itself is unref'd).
      const timer = setTimeout(() => {
        this.kill(new Error(`Python splitter timed out after ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      if (this.idleTimer) clearTimeout(this.idleTimer);
      this.idleTimer = undefined;
      child.stdin.write(`${JSON.stringify({ id, sources })}\n`);
    });
  }

  private ensureChild(): ChildProcessWithoutNullStreams {
    if (this.child) return this.child;
    const child = spawn(this.python, ['-I', SPLIT_SCRIPT], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.spawned++;
    this.child = child;
    let buffer = '';
    let stderr = '';
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      // Output of a process already given up on (killed, closed) must not reach newer requests.
      if (this.child !== child) return;
      buffer += chunk;
      let newline = buffer.indexOf('\n');
      while (newline >= 0) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 1);
        if (line.trim() !== '' && !this.onLine(line)) return;
        newline = buffer.indexOf('\n');
      }
      if (this.pending.size === 0) this.armIdle();
    });
    child.stderr.on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-2000);
    });
    child.stdin.on('error', () => {
      // EPIPE after the process died: its 'exit' handler rejects what is pending.
    });
    child.on('error', (err) => {
      if (this.child === child) this.detach(new Error(`Cannot run ${this.python}: ${err.message}`));
    });
    child.on('exit', (code, signal) => {
      if (this.child === child) {
        const why = signal ? `signal ${signal}` : `code ${code}`;
        this.detach(
          new Error(`${this.python} split_points.py exited (${why})${stderr ? `: ${stderr.trim()}` : ''}`),
        );
      }
    });
    child.unref();
    for (const stream of [child.stdin, child.stdout, child.stderr]) {
      (stream as unknown as { unref?: () => void }).unref?.();
    }
    return child;
  }

  /** Handle one response line; false when the process had to be killed. */
  private onLine(line: string): boolean {
    let message: { id: number; results: PythonPointsResult[] };
    try {
      message = JSON.parse(line);
    } catch {
      this.kill(new Error(`Python splitter wrote a line that is not JSON: ${line.slice(0, 200)}`));
      return false;
    }
    const entry = this.pending.get(message.id);
    if (entry) {
      this.pending.delete(message.id);
      clearTimeout(entry.timer);
      entry.resolve(message.results);
    }
    return true;
  }

  private armIdle(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => {
      this.idleTimer = undefined;
      if (this.pending.size === 0) void this.close();
    }, this.idleMs);
    this.idleTimer.unref();
  }

  private kill(error: Error): void {
    const child = this.child;
    this.detach(error);
    child?.kill('SIGKILL');
  }

  /** Forget the current process and reject everything waiting on it. */
  private detach(error: Error): void {
    this.child = undefined;
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    for (const [id, entry] of this.pending) {
      clearTimeout(entry.timer);
      this.pending.delete(id);
      entry.reject(error);
    }
  }
}

export function createPythonSplitter(options: PythonSplitterOptions = {}): PythonSplitter {
  return new PythonSplitter(options);
}

let defaultSplitter: PythonSplitter | undefined;

/** The process-wide splitter used when no `splitter` option is given. */
export function getDefaultPythonSplitter(): PythonSplitter {
  defaultSplitter ??= new PythonSplitter();
  return defaultSplitter;
}
