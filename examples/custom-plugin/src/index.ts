/**
 * A plugin written by a third party: a reward that scales the StepCoder table by how fast the
 * program ran. It only depends on @stepcoder/core, registers itself when imported, and exports its
 * factory for explicit use (the same shape as every @stepcoder plugin package).
 */
import { type ExecutionResult, type RewardFn, registry } from '@stepcoder/core';
import { z } from 'zod';

export const speedBonusOptions = z
  .object({
    /** Reward of a passing program that took `budgetMs` or longer. */
    pass: z.number().default(1),
    /** Extra reward, scaled linearly, for finishing faster than the budget. */
    bonus: z.number().min(0).default(0.2),
    budgetMs: z.number().positive().default(1000),
    fail: z.number().default(-0.5),
  })
  .strict();

export type SpeedBonusOptions = z.input<typeof speedBonusOptions>;

declare module '@stepcoder/core' {
  interface PluginOptions {
    'reward:speed-bonus': SpeedBonusOptions;
  }
}

export function createSpeedBonusReward(options: SpeedBonusOptions = {}): RewardFn {
  const o = speedBonusOptions.parse(options);
  return {
    specificationVersion: 'v1',
    name: 'speed-bonus',
    score(result: ExecutionResult): number | null {
      if (result.outcome === 'infra_error') return null;
      if (result.outcome !== 'pass') return o.fail;
      const speed = Math.max(0, 1 - result.durationMs / o.budgetMs);
      return o.pass + o.bonus * speed;
    },
  };
}

if (!registry.has('reward', 'speed-bonus')) {
  registry.register('reward', 'speed-bonus', (options) => createSpeedBonusReward(options), {
    schema: speedBonusOptions,
    description: 'StepCoder-style reward with a bonus for fast programs',
  });
}
