export { StepcoderError, ValidationError } from './errors.js';
export type { StepcoderErrorCode, StepcoderErrorOptions, ValidationIssue } from './errors.js';
export { validate } from './validation.js';
export type { StandardSchemaV1 } from './standard-schema.js';

export { testCount } from './problem.js';
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

export { DEFAULT_LIMITS, OUTCOMES, infraErrorResult } from './execution.js';
export type {
  BranchArmCoverage,
  BranchCoverage,
  Coverage,
  ExecutionLimits,
  ExecutionRequest,
  ExecutionResult,
  Executor,
  Outcome,
  SourcePos,
  SourceRange,
  StatementCoverage,
  TestBudget,
  TestResult,
} from './execution.js';

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

export { PLUGIN_KINDS, Registry, createRegistry, getGlobalRegistry, registry } from './registry.js';
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

export { Rng, createRng } from './rng.js';
export type { RngState } from './rng.js';

export { EventBus, createEventBus } from './events.js';
export type { EventHandler, LogEvent, MetricEvent, ProgressEvent, StepcoderEvents } from './events.js';

export { DEFAULT_TOLERANCE, compareStdout, deepEqualValues, matchesCallOutput } from './compare.js';
export type { StdoutMatch, Tolerance } from './compare.js';

export { LineIndex, utf8ColumnToUtf16 } from './source.js';

export { limitsSchema, parseProblem, problemSchema, testSuiteSchema } from './schemas.js';
