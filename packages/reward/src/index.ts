import { registry } from '@stepcoder/core';
import type { PassFractionRewardOptions } from './pass-fraction-reward.js';
import { createPassFractionReward, passFractionRewardSchema } from './pass-fraction-reward.js';
import {
  createStepcoderReward,
  type StepcoderRewardOptions,
  stepcoderRewardSchema,
} from './stepcoder-reward.js';

export * from './base.js';

declare module '@stepcoder/core' {
  interface PluginOptions {
    'reward:stepcoder': StepcoderRewardOptions;
    'reward:pass-fraction': PassFractionRewardOptions;
  }
}

// `override` keeps a second copy of this package (or a re-import in tests) from failing.
registry.register('reward', 'stepcoder', createStepcoderReward, {
  schema: stepcoderRewardSchema,
  override: true,
  description: 'StepCoder table: pass +1, wrong answer -0.3, runtime error/timeout -0.6, compile error -1',
});
registry.register('reward', 'pass-fraction', createPassFractionReward, {
  schema: passFractionRewardSchema,
  override: true,
  description: 'Fraction of tests passed, scaled into [min, max]; compile error has its own value',
});
