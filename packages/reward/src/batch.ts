import { availableParallelism } from 'node:os';
import {
  type ExecutionRequest,
  type ExecutionResult,
  type Executor,
  infraErrorResult,
  OUTCOMES,
  type RewardFn,
  StepcoderError,
  testCount,
  validate,
} from '@stepcoder/core';
import { z } from 'zod';

const batchOptionsSchema = z.object({
  concurrency: z.number().int().min(1).optional(),
  onResult: z.function().optional(),
  signal: z.instanceof(AbortSignal).optional(),
});

export interface RunBatchOptions {
  /** Programs in flight at once. Default: `os.availableParallelism()`. */
  concurrency?: number;
  /** Called as each program finishes (completion order, not request order). */
  onResult?: (index: number, result: ExecutionResult) => void;
  /**
   * Stops starting new programs and is forwarded to the running ones (combined with each
   * request's own signal). The batch then rejects with a StepcoderError `ABORTED` once the
   * running programs have settled, so no work is left behind.
   */
  signal?: AbortSignal;
}

export interface ScoreBatchOptions {
  concurrency?: number;
  /** Called as each program finishes, so rewards can be used before the batch ends. */
  onResult?: (index: number, result: ExecutionResult, reward: number | null) => void;
  signal?: AbortSignal;
}

export interface ScoredResult {
  result: ExecutionResult;
  /** `null` when the sample must be left out of training (infra_error, or the reward failed). */
  reward: number | null;
  /** Why `score` threw, when it did. */
  rewardError?: string;
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function safeTestCount(request: ExecutionRequest): number {
  try {
    return testCount(request.tests);
  } catch {
    return 0;
  }
}

function isExecutionResult(value: unknown): value is ExecutionResult {
  if (typeof value !== 'object' || value === null) return false;
  const outcome = (value as { outcome?: unknown }).outcome;
  return typeof outcome === 'string' && (OUTCOMES as readonly string[]).includes(outcome);
}

function combineSignals(a: AbortSignal | undefined, b: AbortSignal | undefined): AbortSignal | undefined {
  if (!a) return b;
  if (!b) return a;
  return AbortSignal.any([a, b]);
}

/**
 * One program, never throwing: an executor that throws, rejects or returns garbage produces an
 * `infra_error` result for this program only (infrastructure failures are not rewards).
 */
export async function runIsolated(
  executor: Executor,
  request: ExecutionRequest,
  signal?: AbortSignal,
): Promise<ExecutionResult> {
  const started = performance.now();
  const combined = combineSignals(request.signal, signal);
  try {
    const result: unknown = await executor.run(
      combined === request.signal ? request : { ...request, signal: combined },
    );
    if (isExecutionResult(result)) return result;
    return infraErrorResult(
      `executor '${executor.name}' returned an invalid result (expected an ExecutionResult with a known outcome)`,
      safeTestCount(request),
      performance.now() - started,
    );
  } catch (err) {
    return infraErrorResult(
      `executor '${executor.name}' failed: ${errorMessage(err)}`,
      safeTestCount(request),
      performance.now() - started,
    );
  }
}

/**
 * Run many programs through one executor with bounded concurrency. Results come back in request
 * order; a crash of one program becomes its `infra_error` result and never fails the batch.
 * An exception thrown by `onResult` is the caller's bug: no new program starts, and the batch
 * rejects with it once the running ones have settled.
 */
export async function runBatch(
  executor: Executor,
  requests: readonly ExecutionRequest[],
  options: RunBatchOptions = {},
): Promise<ExecutionResult[]> {
  const opts = validate(batchOptionsSchema, options, 'options of runBatch');
  const concurrency = opts.concurrency ?? availableParallelism();
  const { onResult, signal } = options;
  if (signal?.aborted) {
    throw new StepcoderError('ABORTED', `Batch aborted before it started (${requests.length} programs)`, {
      details: { done: 0, total: requests.length },
    });
  }

  const results = new Array<ExecutionResult>(requests.length);
  let next = 0;
  let done = 0;
  let callbackFailure: { error: unknown } | undefined;

  const worker = async (): Promise<void> => {
    while (next < requests.length && !signal?.aborted && !callbackFailure) {
      const index = next++;
      const result = await runIsolated(executor, requests[index]!, signal);
      results[index] = result;
      done++;
      if (onResult) {
        try {
          onResult(index, result);
        } catch (error) {
          callbackFailure ??= { error };
        }
      }
    }
  };

  await Promise.all(Array.from({ length: Math.min(concurrency, requests.length) }, worker));
  if (callbackFailure) throw callbackFailure.error;
  if (signal?.aborted && done < requests.length) {
    throw new StepcoderError('ABORTED', `Batch aborted after ${done} of ${requests.length} programs`, {
      details: { done, total: requests.length },
    });
  }
  return results;
}

/**
 * Run and score many programs: `runBatch` plus `rewardFn.score` on each result as it finishes.
 * A reward function that throws yields `reward: null` with `rewardError`, never a failed batch.
 */
export async function scoreBatch(
  executor: Executor,
  requests: readonly ExecutionRequest[],
  rewardFn: RewardFn,
  options: ScoreBatchOptions = {},
): Promise<ScoredResult[]> {
  const scored = new Array<ScoredResult>(requests.length);
  const { onResult, ...rest } = options;
  await runBatch(executor, requests, {
    ...rest,
    onResult(index, result) {
      let item: ScoredResult;
      try {
        item = { result, reward: rewardFn.score(result) };
      } catch (err) {
        item = { result, reward: null, rewardError: errorMessage(err) };
      }
      scored[index] = item;
      onResult?.(index, result, item.reward);
    },
  });
  return scored;
}
