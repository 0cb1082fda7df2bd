import { type ExecutionResult, type RewardFn, StepcoderError, validate } from '@stepcoder/core';
import { z } from 'zod';

/**
 * The StepCoder / CodeRL reward table. Timeouts and memory limits have their own entries so that
 * ablations can treat them differently from runtime errors; by default they score like one.
 */
export const stepcoderRewardSchema = z.strictObject({
  pass: z.number().default(1),
  wrongAnswer: z.number().default(-0.3),
  runtimeError: z.number().default(-0.6),
  timeout: z.number().default(-0.6),
  memoryLimit: z.number().default(-0.6),
  compileError: z.number().default(-1),
  /**
   * A runtime error whose reason is `output_limit` (a test's output passed `maxOutputBytes` and was
   * cut, so it was not judged). Default: the `runtimeError` value, so the published table is
   * unchanged; set it to score such programs on their own.
   */
  outputLimit: z.number().optional(),
});

export type StepcoderRewardOptions = z.input<typeof stepcoderRewardSchema>;
export type StepcoderRewardTable = z.output<typeof stepcoderRewardSchema>;

export interface StepcoderReward extends RewardFn {
  /** The resolved table (defaults filled in). */
  readonly table: Readonly<StepcoderRewardTable>;
}

/** Reward of the StepCoder paper: one scalar per outcome; `infra_error` → `null` (sample dropped). */
export function createStepcoderReward(options: StepcoderRewardOptions = {}): StepcoderReward {
  const table = Object.freeze(
    validate(stepcoderRewardSchema, options, "options of reward 'stepcoder'"),
  ) as StepcoderRewardTable;
  return {
    specificationVersion: 'v1',
    name: 'stepcoder',
    table,
    score(result: ExecutionResult): number | null {
      switch (result.outcome) {
        case 'pass':
          return table.pass;
        case 'wrong_answer':
          return table.wrongAnswer;
        case 'runtime_error':
          return result.reason === 'output_limit'
            ? (table.outputLimit ?? table.runtimeError)
            : table.runtimeError;
        case 'timeout':
          return table.timeout;
        case 'memory_limit':
          return table.memoryLimit;
        case 'compile_error':
          return table.compileError;
        case 'infra_error':
          return null;
        default:
          throw unknownOutcome(result);
      }
    },
  };
}

export function unknownOutcome(result: ExecutionResult): StepcoderError {
  return new StepcoderError(
    'INVALID_OPTIONS',
    `Cannot score an execution result with outcome ${JSON.stringify(
      (result as { outcome?: unknown }).outcome,
    )}: expected one of pass, wrong_answer, runtime_error, compile_error, timeout, memory_limit, infra_error`,
    { details: { outcome: (result as { outcome?: unknown }).outcome } },
  );
}
