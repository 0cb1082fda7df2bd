import { type ExecutionResult, type RewardFn, validate } from '@stepcoder/core';
import { z } from 'zod';
import { unknownOutcome } from './stepcoder-reward.js';

/**
 * Partial credit: the fraction of tests passed, scaled linearly into `[min, max]`. A program that
 * does not compile ran no test, so it gets its own value instead of `min`.
 */
export const passFractionRewardSchema = z
  .strictObject({
    min: z.number().default(0),
    max: z.number().default(1),
    compileError: z.number().default(-1),
  })
  .refine((o) => o.max >= o.min, { message: 'max must be >= min', path: ['max'] });

export type PassFractionRewardOptions = z.input<typeof passFractionRewardSchema>;
export type PassFractionRewardTable = z.output<typeof passFractionRewardSchema>;

export interface PassFractionReward extends RewardFn {
  readonly table: Readonly<PassFractionRewardTable>;
}

/**
 * `min + (max - min) * passed / total`. With `total === 0` (no test ran) the fraction is 1 for a
 * `pass` and 0 otherwise. Run with `stopOnFirstFailure: false`: tests skipped after the first
 * failure count as failed, which understates the fraction.
 */
export function createPassFractionReward(options: PassFractionRewardOptions = {}): PassFractionReward {
  const table = Object.freeze(
    validate(passFractionRewardSchema, options, "options of reward 'pass-fraction'"),
  ) as PassFractionRewardTable;
  return {
    specificationVersion: 'v1',
    name: 'pass-fraction',
    table,
    score(result: ExecutionResult): number | null {
      switch (result.outcome) {
        case 'infra_error':
          return null;
        case 'compile_error':
          return table.compileError;
        case 'pass':
        case 'wrong_answer':
        case 'runtime_error':
        case 'timeout':
        case 'memory_limit': {
          const fraction =
            result.total > 0
              ? Math.min(1, Math.max(0, result.passed / result.total))
              : result.outcome === 'pass'
                ? 1
                : 0;
          return table.min + (table.max - table.min) * fraction;
        }
        default:
          throw unknownOutcome(result);
      }
    },
  };
}
