/**
 * Every error this project throws on purpose is a StepcoderError with a stable `code`, so callers
 * (the trainer above all) can tell "this sample is bad, skip it" from "the setup is wrong, stop".
 */
export type StepcoderErrorCode =
  | 'UNKNOWN_PLUGIN'
  | 'DUPLICATE_PLUGIN'
  | 'INVALID_OPTIONS'
  | 'INVALID_CONFIG'
  | 'INVALID_PROBLEM'
  | 'DATASET_ROW'
  | 'DATASET_IO'
  | 'EXECUTOR_INFRA'
  | 'PYTHON_UNAVAILABLE'
  | 'TOKENIZER'
  | 'CHECKPOINT'
  | 'BACKEND_UNAVAILABLE'
  | 'NOT_READY'
  | 'PARSE_ERROR'
  | 'ABORTED'
  | (string & {});

export interface StepcoderErrorOptions {
  cause?: unknown;
  /** Machine-readable context: file, row, option path, plugin name… */
  details?: Record<string, unknown>;
}

export class StepcoderError extends Error {
  override readonly name: string = 'StepcoderError';
  readonly code: StepcoderErrorCode;
  readonly details: Record<string, unknown>;

  constructor(code: StepcoderErrorCode, message: string, options: StepcoderErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = options.details ?? {};
  }

  /** Narrowing check that works across duplicated copies of core in node_modules. */
  static is(value: unknown, code?: StepcoderErrorCode): value is StepcoderError {
    if (typeof value !== 'object' || value === null) return false;
    const v = value as { code?: unknown; details?: unknown };
    if (!(value instanceof Error) || typeof v.code !== 'string' || typeof v.details !== 'object')
      return false;
    return code === undefined || v.code === code;
  }
}

/** One problem found while validating options or config. */
export interface ValidationIssue {
  /** Dotted path to the offending value, e.g. `limits.timeoutMs` or `tests.cases[2].input`. */
  path: string;
  message: string;
}

export class ValidationError extends StepcoderError {
  override readonly name = 'ValidationError';
  readonly issues: ValidationIssue[];

  constructor(where: string, issues: ValidationIssue[], code: StepcoderErrorCode = 'INVALID_OPTIONS') {
    const lines = issues.map((i) => `  - ${i.path || '(root)'}: ${i.message}`).join('\n');
    super(code, `Invalid ${where}:\n${lines}`, { details: { where, issues } });
    this.issues = issues;
  }
}
