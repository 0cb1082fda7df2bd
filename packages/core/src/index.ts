export { withBos } from './bos.js';
export type { EqualitySemantics, StdoutMatch, Tolerance } from './compare.js';
export { compareStdout, DEFAULT_TOLERANCE, deepEqualValues, matchesCallOutput } from './compare.js';
export type { StepcoderErrorCode, StepcoderErrorOptions, ValidationIssue } from './errors.js';
export { StepcoderError, ValidationError } from './errors.js';
export type { EventHandler, LogEvent, MetricEvent, ProgressEvent, StepcoderEvents } from './events.js';
export { createEventBus, EventBus } from './events.js';
export type {
  BranchArmCoverage,
  BranchCoverage,
  Coverage,
  ExecutionLimits,
  ExecutionRequest,
  ExecutionResult,
  Executor,
  Outcome,
  SandboxLevel,
  SourcePos,
  SourceRange,
  StatementCoverage,
  TestBudget,
  TestResult,
} from './execution.js';
export { DEFAULT_LIMITS, infraErrorResult, OUTCOMES, resultWithoutTests, selectTests } from './execution.js';
export { mapLimited } from './limiter.js';
export type {
  AdvantageEstimator,
  AdvantageInput,
  AdvantageOutput,
  Backend,
  Curriculum,
  CurriculumFeedback,
  CurriculumPrompt,
  DatasetLoader,
  LoadSummary,
  MaskInput,
  MaskStrategy,
  ProblemStream,
  RewardFn,
  RowIssue,
  TokenSpan,
} from './plugins.js';
export type {
  AssertTests,
  CallTests,
  Language,
  Problem,
  ProblemSource,
  StdioTests,
  TestKind,
  TestSuite,
} from './problem.js';
export { testCount } from './problem.js';
export type {
  BestResult,
  FactoryContext,
  OptionsOf,
  PluginFactory,
  PluginKind,
  PluginKinds,
  PluginLoader,
  PluginOptions,
  RegisterOptions,
  RegistryEntry,
} from './registry.js';
export { createRegistry, getGlobalRegistry, PLUGIN_KINDS, Registry, registry } from './registry.js';
export type { RngState } from './rng.js';
export { createRng, Rng } from './rng.js';
export {
  executionRequestSchema,
  limitsSchema,
  parseProblem,
  problemSchema,
  testBudgetSchema,
  testSuiteSchema,
} from './schemas.js';
export { LineIndex, utf8ColumnToUtf16 } from './source.js';
export type { StandardSchemaV1 } from './standard-schema.js';
export type { AlignedPrompt, AlignTokenizer } from './token-align.js';
export { alignPromptToTokens, createPromptAligner } from './token-align.js';
export { validate } from './validation.js';
