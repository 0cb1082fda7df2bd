import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import {
  DEFAULT_LIMITS,
  type ExecutionLimits,
  type ExecutionRequest,
  type ExecutionResult,
  type Executor,
  infraErrorResult,
  StepcoderError,
  validate,
} from '@stepcoder/core';
import {
  type PythonExecutorOptions,
  pythonExecutorOptionsSchema,
  type ResolvedPythonExecutorOptions,
} from './options.js';
import { PythonPool } from './pool.js';
import { buildJob, planRequest } from './request.js';
import { planSandbox, type SandboxPlan } from './sandbox.js';
import { Judge } from './verdict.js';
import type { WorkerSpec } from './worker.js';

/** Absolute path of the harness script shipped in the package's `python/` folder. */
export const HARNESS_PATH: string = fileURLToPath(new URL('../python/harness.py', import.meta.url));

/** The minimal environment of workers and candidates; nothing from the parent leaks in. */
export const BASE_ENV: Readonly<Record<string, string>> = {
  PATH: '/usr/local/bin:/usr/bin:/bin',
  LANG: 'C.UTF-8',
  LC_ALL: 'C.UTF-8',
  PYTHONIOENCODING: 'utf-8',
};

export interface PythonExecutor extends Executor {
  readonly name: 'python';
  /** The validated options, defaults filled in. */
  readonly options: Readonly<ResolvedPythonExecutorOptions>;
  /** Resolve the interpreter and start every worker now (otherwise done on first run). */
  warm(): Promise<void>;
  /** The worker pool (created on first run or `warm`). */
  pool(): Promise<PythonPool>;
  /** How the workers are isolated (decided when the pool is created). */
  sandbox(): Promise<SandboxPlan>;
}

function workerSpec(plan: SandboxPlan, options: ResolvedPythonExecutorOptions): WorkerSpec {
  const namespaces = plan.level === 'namespaces';
  const config = {
    preload: options.preload,
    subreaper: true,
    runAs: options.runAs === false ? null : [options.runAs.uid, options.runAs.gid],
    // In the sandbox, /tmp is the worker's own tmpfs; whatever a candidate leaves in it or in
    // /dev/shm is removed after each program.
    tmpDir: namespaces ? '/tmp' : (options.tmpDir ?? null),
    scratch: namespaces ? ['/tmp', '/dev/shm'] : [],
  };
  const [command, ...prefix] = [...plan.prefix, plan.python.executable];
  return {
    command: command!,
    // -s: no user site-packages; -B: no .pyc files written next to anyone's sources.
    args: [...prefix, '-s', '-B', plan.harnessPath, JSON.stringify(config)],
    env: { ...BASE_ENV, PYTHONHASHSEED: String(options.hashSeed), PYTHONDONTWRITEBYTECODE: '1' },
    startTimeoutMs: options.startTimeoutMs,
    pidNamespace: namespaces,
  };
}

/**
 * Python executor: candidates run in forked children of a pool of warm `python3` workers, one
 * fork per program, with rlimits, a fresh temp dir, a scrubbed environment and wall timeouts
 * enforced from Node. Verdicts are decided here with core's comparison rules.
 */
export function createPythonExecutor(options: PythonExecutorOptions = {}): PythonExecutor {
  const resolved = validate(pythonExecutorOptionsSchema, options, "options of executor 'python'");
  const defaults: ExecutionLimits = { ...DEFAULT_LIMITS, ...resolved.limits };
  const size = resolved.poolSize ?? Math.max(1, availableParallelism());
  const candidateEnv = { ...BASE_ENV, ...resolved.env };
  let poolPromise: Promise<PythonPool> | undefined;
  let sandboxPlan: SandboxPlan | undefined;
  let disposed = false;

  const getPool = (): Promise<PythonPool> => {
    if (disposed)
      return Promise.reject(new StepcoderError('EXECUTOR_INFRA', 'The Python executor was disposed'));
    poolPromise ??= planSandbox(resolved, HARNESS_PATH).then((plan) => {
      sandboxPlan = plan;
      return new PythonPool({ size, spec: workerSpec(plan, resolved) });
    });
    // A failed interpreter check is retried on the next call rather than remembered forever.
    poolPromise.catch(() => {
      poolPromise = undefined;
    });
    return poolPromise;
  };

  return {
    specificationVersion: 'v1',
    name: 'python',
    languages: ['python'],
    options: resolved,

    async warm() {
      await (await getPool()).warm();
    },

    pool: getPool,

    async sandbox() {
      await getPool();
      return sandboxPlan!;
    },

    async run(request: ExecutionRequest): Promise<ExecutionResult> {
      const plan = planRequest(request, defaults, resolved);
      const pool = await getPool();
      const jobLine = buildJob(plan, request, {
        fileSizeMb: resolved.fileSizeMb,
        maxProcesses: resolved.maxProcesses,
        env: candidateEnv,
        hitCap: resolved.coverageHitCap,
        coverageBackend: resolved.coverageBackend,
      });
      const judge = new Judge(plan, resolved.tolerance);
      let end: Awaited<ReturnType<PythonPool['run']>>;
      try {
        end = await pool.run(jobLine, {
          timeoutMs: plan.wall.testMs,
          totalTimeoutMs: plan.wall.totalMs,
          onRecord: (line, trusted) => judge.record(line, trusted),
          signal: request.signal,
        });
      } catch (err) {
        return infraErrorResult(err instanceof Error ? err.message : String(err), plan.indices.length);
      }
      if (end.killed === 'aborted') {
        throw new StepcoderError('ABORTED', 'Python execution was aborted', {
          cause: request.signal?.reason,
        });
      }
      const result = judge.finish(end);
      result.sandbox = sandboxPlan?.level;
      result.queueMs = end.queueMs;
      return result;
    },

    async dispose() {
      if (disposed) return;
      disposed = true;
      const pending = poolPromise;
      poolPromise = undefined;
      if (pending)
        await pending.then(
          (pool) => pool.dispose(),
          () => undefined,
        );
    },
  };
}
