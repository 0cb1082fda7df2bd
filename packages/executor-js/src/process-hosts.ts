import { type ChildProcess, fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { type ExecutionRequest, type ExecutionResult, infraErrorResult, testCount } from '@stepcoder/core';

/** Where the host entry is: built JavaScript next to this file, or the TypeScript source in development. */
function hostEntry(): { file: string; execArgv: string[] } {
  const js = fileURLToPath(new URL('./host-process.js', import.meta.url));
  if (existsSync(js)) return { file: js, execArgv: [] };
  const ts = fileURLToPath(new URL('./host-process.ts', import.meta.url));
  return { file: ts, execArgv: ['--import', 'tsx'] };
}

interface Pending {
  id: number;
  total: number;
  resolve: (r: ExecutionResult) => void;
}

/** One host process serving one run at a time; restarted after it dies. */
class Host {
  private child: ChildProcess | undefined;
  private ready: Promise<void> | undefined;
  private pending: Pending | undefined;
  private stderrTail = '';

  constructor(private readonly options: unknown) {}

  private start(): Promise<void> {
    const entry = hostEntry();
    const child = fork(entry.file, [], {
      execArgv: entry.execArgv,
      serialization: 'advanced',
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      env: { ...process.env, STEPCODER_JS_HOST_OPTIONS: JSON.stringify(this.options) },
    });
    this.child = child;
    this.stderrTail = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      this.stderrTail = (this.stderrTail + chunk.toString()).slice(-4096);
    });
    const ready = new Promise<void>((resolve, reject) => {
      child.once('error', reject);
      child.on('message', (m: { ready?: boolean; id?: number; result?: ExecutionResult }) => {
        if (m.ready) resolve();
        else if (this.pending && m.id === this.pending.id && m.result) {
          const p = this.pending;
          this.pending = undefined;
          p.resolve(m.result);
        }
      });
      child.once('exit', (code, signal) => {
        reject(
          new Error(`host exited before it was ready (code ${code}, signal ${signal}): ${this.stderrTail}`),
        );
        this.onExit(child, code, signal);
      });
    });
    this.ready = ready;
    return ready;
  }

  private onExit(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.child !== child) return;
    this.child = undefined;
    this.ready = undefined;
    const p = this.pending;
    this.pending = undefined;
    if (!p) return;
    const oom = /out of memory|heap limit|Allocation failed|CALL_AND_RETRY_LAST/i.test(this.stderrTail);
    if (oom) {
      p.resolve({
        ...infraErrorResult('', p.total),
        outcome: 'memory_limit',
        message:
          'V8 aborted the isolate host with a fatal out-of-memory (one allocation over the heap limit)',
      });
    } else {
      p.resolve(infraErrorResult(`the isolate host exited (code ${code}, signal ${signal})`, p.total));
    }
  }

  async run(id: number, request: ExecutionRequest, limitMs: number): Promise<ExecutionResult> {
    const total = (() => {
      try {
        return testCount(request.tests);
      } catch {
        return 0;
      }
    })();
    const { signal, ...rest } = request;
    // An abort while the host starts is answered at once, not after the run's whole time limit.
    const starting = !this.child || !this.ready ? this.start() : this.ready;
    let onStartAbort: (() => void) | undefined;
    const aborted = new Promise<'aborted'>((resolve) => {
      onStartAbort = () => resolve('aborted');
      if (signal?.aborted) resolve('aborted');
      else signal?.addEventListener('abort', onStartAbort, { once: true });
    });
    try {
      if ((await Promise.race([starting, aborted])) === 'aborted') return infraErrorResult('aborted', total);
    } finally {
      signal?.removeEventListener('abort', onStartAbort!);
    }
    if (!this.child) return infraErrorResult('the isolate host exited before the run started', total);
    return new Promise<ExecutionResult>((resolve) => {
      this.pending = { id, total, resolve };
      const give = (message: string) => {
        if (this.pending?.id !== id) return;
        this.pending = undefined;
        // The child may be deep inside a test: kill it rather than wait. It is forgotten at once,
        // so the next run starts a fresh host instead of being handed to the dying one.
        const child = this.child;
        this.child = undefined;
        this.ready = undefined;
        child?.kill('SIGKILL');
        resolve(infraErrorResult(message, total));
      };
      const onAbort = () => give('aborted');
      // The host enforces every limit itself; this only catches a host that stopped answering.
      const timer = setTimeout(() => give(`the isolate host did not answer within ${limitMs} ms`), limitMs);
      timer.unref();
      const done = this.pending.resolve;
      this.pending.resolve = (r) => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        done(r);
      };
      if (signal?.aborted) {
        give('aborted');
        return;
      }
      signal?.addEventListener('abort', onAbort, { once: true });
      this.child!.send({ id, request: rest });
    });
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  dispose(): void {
    const child = this.child;
    this.child = undefined;
    this.ready = undefined;
    if (child?.connected) child.disconnect();
    const p = this.pending;
    this.pending = undefined;
    p?.resolve(infraErrorResult("executor 'js' was disposed", p.total));
  }
}

/**
 * Isolation 'process': `size` host processes, each running one program at a time in its own
 * isolate. Costs an IPC round trip per run; buys survival of V8 fatal errors.
 */
export class ProcessHosts {
  private readonly idle: Host[] = [];
  private readonly all: Host[] = [];
  private readonly waiters: Array<(h: Host) => void> = [];
  private nextId = 1;
  private closed = false;
  private created = 0;

  constructor(
    private readonly size: number,
    private readonly options: unknown,
  ) {}

  private acquire(): Promise<Host> {
    const h = this.idle.pop();
    if (h) return Promise.resolve(h);
    if (this.created < this.size) {
      this.created++;
      const host = new Host(this.options);
      this.all.push(host);
      return Promise.resolve(host);
    }
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private release(h: Host): void {
    const w = this.waiters.shift();
    if (w) w(h);
    else this.idle.push(h);
  }

  async run(request: ExecutionRequest, limitMs: number): Promise<ExecutionResult> {
    if (this.closed) return infraErrorResult("executor 'js' was disposed", 0);
    if (request.signal?.aborted) return infraErrorResult('aborted', 0);
    const queued = performance.now();
    const host = await this.acquire();
    const queueMs = Math.round((performance.now() - queued) * 1000) / 1000;
    try {
      const result = await host.run(this.nextId++, request, limitMs);
      // The host's own queue is always empty: the wait was here, for a free host.
      result.queueMs = queueMs + (result.queueMs ?? 0);
      result.sandbox = 'isolate-process';
      return result;
    } catch (err) {
      return infraErrorResult(`isolate host failed: ${(err as Error).message}`, 0);
    } finally {
      this.release(host);
    }
  }

  /** Process ids of running hosts (for tests and monitoring). */
  pids(): number[] {
    return this.all.map((h) => h.pid).filter((p): p is number => p !== undefined);
  }

  dispose(): void {
    this.closed = true;
    for (const h of this.all.splice(0)) h.dispose();
    this.idle.length = 0;
  }
}
