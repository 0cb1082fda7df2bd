import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { StepcoderError } from '@stepcoder/core';

/** How to start one worker process. */
export interface WorkerSpec {
  command: string;
  args: string[];
  env: Record<string, string>;
  startTimeoutMs: number;
  /**
   * The worker runs in its own PID namespace: the pids it reports are not Node's, so children are
   * killed by asking the worker (a `kill` line on its stdin), never with `process.kill`.
   */
  pidNamespace?: boolean;
}

/** What a worker reports when it starts. */
export interface WorkerInfo {
  /** Interpreter version. */
  version: number[];
  /**
   * `[uid, gid, readAll]` when children drop root to that user; `readAll` means the user could not
   * read the interpreter's files, so children keep CAP_DAC_READ_SEARCH (they may read any file).
   * `null` when children keep the worker's own user.
   */
  runAs: [number, number, boolean] | null;
  /** Orphans of candidates are re-parented to the worker, which kills and reaps them. */
  subreaper: boolean;
}

export type KillReason = 'timeout' | 'total-timeout' | 'stopped' | 'aborted';

export interface JobHooks {
  /** Wall limit between two records of the child (one test), ms. */
  timeoutMs: number;
  /** Wall limit of the whole program, ms. */
  totalTimeoutMs: number;
  /**
   * Called with each record line; `trusted` when it comes from the judge process (which never runs
   * candidate code), not from the candidate's. Return true to kill the program.
   */
  onRecord(line: string, trusted: boolean): boolean;
  signal?: AbortSignal;
}

export interface ChildExit {
  code?: number;
  signal?: number;
  /** The child wrote a record larger than the job allows and was killed. */
  overflow: boolean;
}

export interface JobEnd {
  /** How the child ended, from the worker's waitpid; absent when the worker never said. */
  exit?: ChildExit;
  /** How the judge process ended (assertion tests judged out of process). */
  judgeExit?: ChildExit;
  /** Why the parent killed the child, if it did. */
  killed?: KillReason;
  /** The worker or harness failed: the run says nothing about the candidate. */
  infra?: string;
  durationMs: number;
}

interface ActiveJob {
  onLine(line: string, trusted: boolean): void;
  onWorkerEvent(event: Record<string, unknown>): void;
  onWorkerDeath(reason: string): void;
}

/** After killing a child, how long the worker has to report its exit before it is replaced. */
const KILL_GRACE_MS = 5000;

function killGroup(pid: number): void {
  // The child leads its own process group (setsid), so -pid reaches everything it forked that did
  // not escape with its own setsid; the worker kills and reaps those escapees as their subreaper.
  for (const target of [-pid, pid]) {
    try {
      process.kill(target, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
}

function childExit(event: Record<string, unknown>): ChildExit {
  return {
    code: typeof event.code === 'number' ? event.code : undefined,
    signal: typeof event.signal === 'number' ? event.signal : undefined,
    overflow: event.overflow === true,
  };
}

/**
 * One warm `python3` running the fork-server harness. Runs one program at a time; wall timeouts are
 * enforced here, from outside the candidate, by killing the child's process group.
 */
export class PythonWorker {
  private buffer = '';
  private job: ActiveJob | undefined;
  private dead: string | undefined;
  private stderrTail = '';
  private readonly exited: Promise<void>;
  private readyWaiter: ((event: Record<string, unknown>) => void) | undefined;
  private readyInfo: WorkerInfo | undefined;
  /** pids of the children running now (candidate, judge), for kills from outside a job. */
  private childPids: number[] = [];

  private constructor(
    private readonly proc: ChildProcessWithoutNullStreams,
    private readonly pidNamespace: boolean,
  ) {
    this.exited = new Promise((resolve) => {
      proc.on('close', (code, signal) => {
        this.markDead(`worker exited (${signal ?? `status ${code}`})${this.stderrSuffix()}`);
        resolve();
      });
    });
    proc.on('error', (err) => this.markDead(`worker failed: ${err.message}`));
    proc.stdin.on('error', () => {
      // EPIPE when the worker died; reported through 'close'.
    });
    proc.stdout.setEncoding('utf8');
    proc.stdout.on('data', (chunk: string) => this.onData(chunk));
    proc.stderr.setEncoding('utf8');
    proc.stderr.on('data', (chunk: string) => {
      this.stderrTail = (this.stderrTail + chunk).slice(-2000);
    });
    // Idle workers must not keep the Node process alive; a running job holds its own timers.
    proc.unref();
    for (const stream of [proc.stdin, proc.stdout, proc.stderr]) {
      (stream as unknown as { unref?: () => void }).unref?.();
    }
  }

  static async start(spec: WorkerSpec): Promise<PythonWorker> {
    const proc = spawn(spec.command, spec.args, { stdio: ['pipe', 'pipe', 'pipe'], env: spec.env });
    const worker = new PythonWorker(proc, spec.pidNamespace === true);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        worker.readyWaiter = undefined;
        void worker.kill();
        reject(
          new StepcoderError(
            'EXECUTOR_INFRA',
            `Python worker did not start within ${spec.startTimeoutMs} ms`,
            {
              details: { command: spec.command },
            },
          ),
        );
      }, spec.startTimeoutMs);
      worker.readyWaiter = () => {
        clearTimeout(timer);
        resolve();
      };
      void worker.exited.then(() => {
        clearTimeout(timer);
        reject(new StepcoderError('EXECUTOR_INFRA', `Python worker failed to start: ${worker.dead}`));
      });
    });
    return worker;
  }

  /** Resolves when the worker process is gone. */
  get closed(): Promise<void> {
    return this.exited;
  }

  get alive(): boolean {
    return this.dead === undefined;
  }

  /** What the worker reported at start-up. */
  get info(): WorkerInfo | undefined {
    return this.readyInfo;
  }

  get pid(): number | undefined {
    return this.proc.pid;
  }

  private stderrSuffix(): string {
    const tail = this.stderrTail.trim();
    return tail ? `; stderr: ${tail.slice(-500)}` : '';
  }

  private markDead(reason: string): void {
    if (this.dead !== undefined) return;
    this.dead = reason;
    this.job?.onWorkerDeath(reason);
  }

  private onData(chunk: string): void {
    this.buffer += chunk;
    let start = 0;
    for (;;) {
      const nl = this.buffer.indexOf('\n', start);
      if (nl < 0) break;
      this.dispatch(this.buffer.slice(start, nl));
      start = nl + 1;
    }
    this.buffer = this.buffer.slice(start);
  }

  private dispatch(line: string): void {
    if (line.startsWith('C') || line.startsWith('J')) {
      this.job?.onLine(line.slice(1), line.startsWith('J'));
      return;
    }
    if (!line.startsWith('W')) return;
    let event: Record<string, unknown>;
    try {
      event = JSON.parse(line.slice(1));
    } catch {
      return;
    }
    if (event.ev === 'ready') {
      this.readyInfo = {
        version: Array.isArray(event.version) ? (event.version as number[]) : [],
        runAs: Array.isArray(event.runAs) ? (event.runAs as [number, number, boolean]) : null,
        subreaper: event.subreaper === true,
      };
      this.readyWaiter?.(event);
      this.readyWaiter = undefined;
      return;
    }
    this.job?.onWorkerEvent(event);
  }

  /** Run one job (a JSON line for the harness). Never rejects: failures come back as `infra`. */
  run(jobLine: string, hooks: JobHooks): Promise<JobEnd> {
    if (this.job) throw new StepcoderError('EXECUTOR_INFRA', 'Python worker is already running a job');
    const t0 = performance.now();
    return new Promise<JobEnd>((resolve) => {
      let pids: number[] = [];
      let killed: KillReason | undefined;
      let done = false;
      let testTimer: NodeJS.Timeout | undefined;
      let graceTimer: NodeJS.Timeout | undefined;

      const finish = (end: Omit<JobEnd, 'durationMs' | 'killed'>) => {
        if (done) return;
        done = true;
        clearTimeout(testTimer);
        clearTimeout(totalTimer);
        clearTimeout(graceTimer);
        hooks.signal?.removeEventListener('abort', onAbort);
        this.job = undefined;
        this.childPids = [];
        resolve({ ...end, killed, durationMs: performance.now() - t0 });
      };

      const kill = (reason: KillReason) => {
        if (killed || done) return;
        killed = reason;
        clearTimeout(testTimer);
        clearTimeout(totalTimer);
        this.killChildren(pids);
        graceTimer = setTimeout(() => {
          // The worker did not report the child's exit: replace it rather than trust it again.
          void this.kill();
          finish({ exit: { signal: 9, overflow: false } });
        }, KILL_GRACE_MS);
      };

      const armTestTimer = () => {
        clearTimeout(testTimer);
        if (!killed) testTimer = setTimeout(() => kill('timeout'), hooks.timeoutMs);
      };
      const totalTimer = setTimeout(() => kill('total-timeout'), hooks.totalTimeoutMs);
      const onAbort = () => kill('aborted');

      this.job = {
        onLine: (line, trusted) => {
          if (done) return;
          armTestTimer();
          if (killed) return;
          if (hooks.onRecord(line, trusted)) kill('stopped');
        },
        onWorkerEvent: (event) => {
          if (event.ev === 'start' && typeof event.pid === 'number') {
            pids = Array.isArray(event.pids)
              ? event.pids.filter((p): p is number => typeof p === 'number')
              : [event.pid];
            this.childPids = pids;
            if (killed) this.killChildren(pids);
          } else if (event.ev === 'exit') {
            const judge = event.judge as Record<string, unknown> | undefined;
            finish({
              exit: childExit(event),
              ...(judge && typeof judge === 'object' ? { judgeExit: childExit(judge) } : {}),
            });
          } else if (event.ev === 'error') {
            finish({ infra: `harness error: ${String(event.msg)}` });
          }
        },
        onWorkerDeath: (reason) => {
          this.killChildren(pids);
          // A worker killed while we were killing a timed-out child still leaves a valid verdict.
          finish(killed ? { exit: { signal: 9, overflow: false } } : { infra: reason });
        },
      };

      if (this.dead !== undefined) {
        finish({ infra: this.dead });
        return;
      }
      if (hooks.signal?.aborted) {
        killed = 'aborted';
        finish({});
        return;
      }
      hooks.signal?.addEventListener('abort', onAbort, { once: true });
      armTestTimer();
      this.proc.stdin.write(`${jobLine}\n`);
    });
  }

  /** SIGKILL the running program's processes (through the worker inside a PID namespace). */
  private killChildren(pids: number[]): void {
    if (pids.length === 0) return;
    if (this.pidNamespace) {
      if (this.dead === undefined && this.proc.stdin.writable) this.proc.stdin.write('kill\n');
      return;
    }
    for (const pid of pids) killGroup(pid);
  }

  /** SIGKILL the worker (and its current child) and wait until it is gone. */
  async kill(): Promise<void> {
    this.killChildren(this.childPids);
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill('SIGKILL');
    await this.holdUntilExited();
  }

  /**
   * Wait for the worker's exit with the event loop held: the process and its pipes are unref'd,
   * so without this a `dispose()` awaited at the end of a script could let Node exit first.
   */
  private async holdUntilExited(): Promise<void> {
    const hold = setInterval(() => undefined, 60_000);
    try {
      await this.exited;
    } finally {
      clearInterval(hold);
    }
  }

  /** Ask the worker to exit (stdin EOF); kill it if it does not within `graceMs`. */
  async close(graceMs = 1000): Promise<void> {
    this.killChildren(this.childPids);
    this.proc.stdin.end();
    const timer = setTimeout(() => void this.kill(), graceMs);
    await this.holdUntilExited();
    clearTimeout(timer);
  }
}
