export type { RunBatchOptions, ScoreBatchOptions, ScoredResult } from './batch.js';
export { runBatch, runIsolated, scoreBatch } from './batch.js';
export type {
  PassFractionReward,
  PassFractionRewardOptions,
  PassFractionRewardTable,
} from './pass-fraction-reward.js';
export { createPassFractionReward, passFractionRewardSchema } from './pass-fraction-reward.js';
export type { StepcoderReward, StepcoderRewardOptions, StepcoderRewardTable } from './stepcoder-reward.js';
export { createStepcoderReward, stepcoderRewardSchema } from './stepcoder-reward.js';
