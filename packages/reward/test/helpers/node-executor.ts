import { spawn } from 'node:child_process';
import {
  compareStdout,
  type ExecutionRequest,
  type ExecutionResult,
  type Executor,
  type TestResult,
} from '@stepcoder/core';

/**
 * A small but real executor for the batch tests: each stdio test is one `node -e` subprocess
 * whose stdout is compared in this (trusted) process. It records how many programs run at once
 * so the scheduler's concurrency bound can be checked, and it throws on purpose for programs
 * that contain `CRASH_EXECUTOR` / returns garbage for `GARBAGE_RESULT`, like a broken worker.
 */
export class NodeSubprocessExecutor implements Executor {
  readonly specificationVersion = 'v1' as const;
  readonly name = 'node-subprocess-test';
  readonly languages = ['javascript'] as const;
  inFlight = 0;
  maxInFlight = 0;
  started: number[] = [];
  private readonly children = new Set<ReturnType<typeof spawn>>();

  async run(request: ExecutionRequest): Promise<ExecutionResult> {
    if (request.program.includes('CRASH_EXECUTOR')) throw new Error('worker died');
    if (request.program.includes('GARBAGE_RESULT')) return undefined as unknown as ExecutionResult;
    if (request.tests.kind !== 'stdio') throw new Error('only stdio tests');
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    const start = performance.now();
    try {
      const tests: TestResult[] = [];
      for (const [index, c] of request.tests.cases.entries()) {
        const t0 = performance.now();
        const r = await this.node(request.program, c.input, request.signal);
        const outcome =
          r.code !== 0
            ? 'runtime_error'
            : compareStdout(r.stdout, c.output) !== false
              ? 'pass'
              : 'wrong_answer';
        tests.push({ index, outcome, durationMs: performance.now() - t0, stdout: r.stdout });
      }
      const failed = tests.find((t) => t.outcome !== 'pass');
      return {
        outcome: failed ? failed.outcome : 'pass',
        tests,
        passed: tests.filter((t) => t.outcome === 'pass').length,
        total: tests.length,
        durationMs: performance.now() - start,
        stdout: tests.map((t) => t.stdout).join(''),
        stderr: '',
        truncated: false,
      };
    } finally {
      this.inFlight--;
    }
  }

  private node(
    program: string,
    input: string,
    signal?: AbortSignal,
  ): Promise<{ code: number | null; stdout: string }> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, ['-e', program], { stdio: ['pipe', 'pipe', 'ignore'], signal });
      this.children.add(child);
      let stdout = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => {
        stdout += d;
      });
      child.on('error', (err) => {
        this.children.delete(child);
        reject(err);
      });
      child.on('close', (code) => {
        this.children.delete(child);
        resolve({ code, stdout });
      });
      child.stdin.end(input);
    });
  }

  async dispose(): Promise<void> {
    for (const c of this.children) c.kill('SIGKILL');
  }
}

/** A program that sleeps `ms`, then echoes stdin uppercased (completion order ≠ request order). */
export function sleepyEcho(ms: number): string {
  return `let s='';process.stdin.on('data',d=>s+=d).on('end',()=>setTimeout(()=>process.stdout.write(s.toUpperCase()),${ms}));`;
}
