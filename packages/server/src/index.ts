export type { Caller } from './auth.js';
export { ApiKeys, bearerToken, isLoopback } from './auth.js';
export type { LimiterOptions } from './limiter.js';
export { ConcurrencyLimiter } from './limiter.js';
export { openApiDocument } from './openapi.js';
export type { ResolvedServerOptions, ServerOptions } from './options.js';
export { DEFAULT_MAX_LIMITS, DEFAULT_RUN_CODE_MAX_OUTPUT_BYTES, serverOptionsSchema } from './options.js';
export type { FailedItem, ScoredItem } from './routes/score.js';
export { registerServerLoaders } from './runtime.js';
export type { CommandRunResult, RunCodeResponse } from './sandbox-fusion.js';
export { RUN_CODE_LANGUAGES, toRunCodeResponse } from './sandbox-fusion.js';
export type { PluginRef, RunCodeRequest, ScoreItem } from './schemas.js';
export {
  curriculumPromptRequestSchema,
  executeRequestSchema,
  runCodeRequestSchema,
  scoreItemSchema,
  scoreRequestDocSchema,
} from './schemas.js';
export type { StepcoderServer } from './server.js';
export { API_VERSION, createServer } from './server.js';
export { closeOnSignals } from './signals.js';
