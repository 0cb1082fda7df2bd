export type { QueueExecutionRequest, QueueExecutor, QueueExecutorStats } from './executor.js';
export { createQueueExecutor } from './executor.js';
export { cancelChannel, LANE_LANGUAGES, laneOf, laneQueueName } from './lanes.js';
export { WorkerCounters } from './metrics.js';
export type {
  Lane,
  QueueExecutorOptions,
  QueueWorkerSettings,
  ResolvedQueueExecutorOptions,
  ResolvedQueueWorkerSettings,
} from './options.js';
export { laneSchema, queueExecutorOptionsSchema, queueWorkerOptionsSchema } from './options.js';
export { redactUrl } from './redis.js';
export type { QueueWorker, QueueWorkerOptions } from './worker.js';
export { startQueueWorker } from './worker.js';
