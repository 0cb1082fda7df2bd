export type { GaeOptions, WeightedAdvantageInput } from './advantage-gae.js';
export { createGaeEstimator, gae, gaeOptionsSchema, whiten } from './advantage-gae.js';
export type { GrpoOptions } from './advantage-grpo.js';
export { createGrpoEstimator, groupNormalise, grpoOptionsSchema } from './advantage-grpo.js';
export type {
  EvaluateOptions,
  EvaluationReport,
  PassAtKSummary,
  ProblemEvaluation,
} from './evaluate.js';
export { evaluatePassAtK } from './evaluate.js';
export { groupStats, informativeGroups } from './group-filter.js';
export type { KlController, KlControllerState, KlControlOptions } from './kl-controller.js';
export {
  createAdaptiveKlController,
  createFixedKlController,
  createKlController,
  klControlSchema,
} from './kl-controller.js';
export type { PolicyLossInput, PolicyLossOutput, ValueLossInput } from './losses.js';
export {
  clipByGlobalNorm,
  clippedPolicyLoss,
  clippedValueLoss,
  k3Kl,
  tokenEntropy,
  tokenLogprobs,
  weightedMean,
} from './losses.js';
export type { LrScheduleOptions } from './lr-schedule.js';
export { learningRateAt, lrScheduleSchema } from './lr-schedule.js';
export type { AdamOptions } from './optimizer.js';
export {
  createAdam,
  getLearningRate,
  loadOptimizerState,
  saveOptimizerState,
  setLearningRate,
} from './optimizer.js';
export { passAtK } from './pass-at-k.js';
export { createPlainCurriculum, finalStagePrompt, plainPrompt } from './plain-curriculum.js';
export type {
  PolicyGenerateOptions,
  PolicyGeneration,
  PolicyGenerator,
  PolicyTokenizer,
  TrainablePolicy,
} from './policy.js';
export type {
  LossAggregation,
  MinibatchTensors,
  PpoLossOutput,
  PpoUpdateOptions,
  PpoUpdateStats,
} from './ppo-update.js';
export { buildMinibatch, lossWeightsOf, minibatchOrder, ppoLoss, ppoUpdate } from './ppo-update.js';
export type { Collated, Rollout, Sequence, TokenScores } from './rollout.js';
export { collate, perTokenRewards, scoreSequences } from './rollout.js';
export type { SftExample, SftExampleOptions, SftExamples, SftOptions, SftResult } from './sft.js';
export { runSft, sftExamples } from './sft.js';
export type { NamedTensorEntry } from './tensor-io.js';
export { readTensorFile, writeTensorFile } from './tensor-io.js';
export type { IterationResult, IterationTiming } from './trainer.js';
export { createTrainer, resumeTrainer, Trainer } from './trainer.js';
export type { PluginRef, ResolvedTrainerOptions, TrainerConfig, TrainerOptions } from './trainer-config.js';
export { parseTrainerOptions, resolvePlugin, trainerOptionsSchema } from './trainer-config.js';
