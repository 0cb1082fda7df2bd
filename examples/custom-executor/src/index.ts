/**
 * An executor written outside the stepcoder packages: each stdin/stdout test runs the JavaScript
 * program in a fresh `node` subprocess with a wall-clock timeout. It is simple and slow next to
 * @stepcoder/executor-js (no isolate reuse, no coverage) and NOT a sandbox — the point is the
 * plugin contract: a factory with validated options, verdicts from core's `compareStdout`,
 * `infra_error` for failures of the executor itself, registration under a name.
 */
import { spawn } from 'node:child_process';
import {
  compareStdout,
  DEFAULT_LIMITS,
  type ExecutionRequest,
  type ExecutionResult,
  type Executor,
  infraErrorResult,
  registry,
  type TestResult,
  testCount,
} from '@stepcoder/core';
import { z } from 'zod';

export const subprocessExecutorOptions = z
  .object({
    nodePath: z.string().default(process.execPath),
    timeoutMs: z.number().int().positive().optional(),
  })
  .strict();
export type SubprocessExecutorOptions = z.input<typeof subprocessExecutorOptions>;

declare module '@stepcoder/core' {
  interface PluginOptions {
    'executor:node-subprocess': SubprocessExecutorOptions;
  }
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  ms: number;
}

function runNode(
  nodePath: string,
  program: string,
  input: string,
  timeoutMs: number,
  maxBytes: number,
): Promise<Run> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const child = spawn(nodePath, ['--input-type=commonjs', '-e', program], { env: {}, stdio: 'pipe' });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stdout.on('data', (d: Buffer) => {
      if (stdout.length < maxBytes) stdout += d.toString('utf8');
    });
    child.stderr.on('data', (d: Buffer) => {
      if (stderr.length < maxBytes) stderr += d.toString('utf8');
    });
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, timedOut, ms: Date.now() - started });
    });
    child.stdin.end(input);
  });
}

export function createSubprocessExecutor(options: SubprocessExecutorOptions = {}): Executor {
  const o = subprocessExecutorOptions.parse(options);
  return {
    specificationVersion: 'v1',
    name: 'node-subprocess',
    languages: ['javascript'],
    async run(request: ExecutionRequest): Promise<ExecutionResult> {
      const started = Date.now();
      const limits = {
        ...DEFAULT_LIMITS,
        ...request.limits,
        ...(o.timeoutMs ? { timeoutMs: o.timeoutMs } : {}),
      };
      if (request.tests.kind !== 'stdio') {
        return infraErrorResult(
          `node-subprocess only runs stdio tests, got '${request.tests.kind}'`,
          testCount(request.tests),
        );
      }
      const program = `${request.preamble ?? ''}\n${request.program}\n${request.epilogue ?? ''}`;
      const tests: TestResult[] = [];
      try {
        for (const [index, test] of request.tests.cases.entries()) {
          const run = await runNode(o.nodePath, program, test.input, limits.timeoutMs, limits.maxOutputBytes);
          const outcome = run.timedOut
            ? 'timeout'
            : run.code !== 0
              ? /SyntaxError/.test(run.stderr)
                ? 'compile_error'
                : 'runtime_error'
              : compareStdout(run.stdout, test.output)
                ? 'pass'
                : 'wrong_answer';
          tests.push({
            index,
            outcome,
            durationMs: run.ms,
            stdout: run.stdout,
            stderr: run.stderr,
            expected: test.output,
          });
          if (outcome !== 'pass' && request.stopOnFirstFailure) break;
        }
      } catch (err) {
        return infraErrorResult(
          `cannot start ${o.nodePath}: ${(err as Error).message}`,
          request.tests.cases.length,
        );
      }
      const failed = tests.find((t) => t.outcome !== 'pass');
      return {
        outcome: failed?.outcome ?? 'pass',
        tests,
        passed: tests.filter((t) => t.outcome === 'pass').length,
        total: request.tests.cases.length,
        durationMs: Date.now() - started,
        message: failed ? `test ${failed.index}: ${failed.outcome}` : undefined,
        stdout: tests.map((t) => t.stdout).join(''),
        stderr: tests.map((t) => t.stderr).join(''),
        truncated: false,
      };
    },
    async dispose() {},
  };
}

if (!registry.has('executor', 'node-subprocess')) {
  registry.register('executor', 'node-subprocess', (options) => createSubprocessExecutor(options), {
    schema: subprocessExecutorOptions,
  });
}
