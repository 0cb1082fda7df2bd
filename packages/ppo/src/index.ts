import { registry } from '@stepcoder/core';
import { createGaeEstimator, gaeOptionsSchema } from './advantage-gae.js';
import { createGrpoEstimator, grpoOptionsSchema } from './advantage-grpo.js';

export * from './base.js';

// `gae` is the default estimator: higher priority so `createBest('advantage')` picks it.
if (!registry.has('advantage', 'gae')) {
  registry.register('advantage', 'gae', (options) => createGaeEstimator(options), {
    priority: 1,
    schema: gaeOptionsSchema,
    description: 'PPO generalised advantage estimation on value-head estimates, whitened',
  });
}
if (!registry.has('advantage', 'grpo')) {
  registry.register('advantage', 'grpo', (options) => createGrpoEstimator(options), {
    schema: grpoOptionsSchema,
    description: 'critic-free group-relative advantages (reward normalised within each prompt group)',
  });
}
