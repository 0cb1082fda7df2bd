import { StepcoderError, ValidationError, type ValidationIssue } from '@stepcoder/core';

/** The JSON body of every error response. */
export interface ErrorBody {
  error: { code: string; message: string; issues?: ValidationIssue[] };
}

export interface HttpFailure {
  status: number;
  body: ErrorBody;
  /** Seconds, for 429 and 503. */
  retryAfter?: number;
}

/** Errors a client caused (bad request, unknown plugin name…), as opposed to server faults. */
const CLIENT_ERROR_CODES = new Set([
  'INVALID_OPTIONS',
  'INVALID_PROBLEM',
  'INVALID_REQUEST',
  'UNKNOWN_PLUGIN',
  'TOKENIZER',
  'UNSUPPORTED_LANGUAGE',
]);

/**
 * Map any thrown value to a status and body. Fastify's own errors (413 body too large, 400 bad
 * JSON, 415 content type) keep their status; ours map by code; anything else is a 500 whose details
 * stay in the log.
 */
export function toHttpFailure(err: unknown): HttpFailure {
  if (err instanceof ValidationError) {
    return {
      status: 400,
      body: { error: { code: 'INVALID_REQUEST', message: err.message, issues: err.issues } },
    };
  }
  if (StepcoderError.is(err)) {
    const body: ErrorBody = { error: { code: err.code, message: err.message } };
    if (err.code === 'QUEUE_FULL') return { status: 429, body, retryAfter: 1 };
    if (err.code === 'SHUTTING_DOWN') return { status: 503, body, retryAfter: 5 };
    if (err.code === 'EXECUTOR_UNAVAILABLE') return { status: 503, body, retryAfter: 5 };
    if (err.code === 'DEADLINE') return { status: 504, body };
    if (err.code === 'UNAUTHORIZED') return { status: 401, body };
    if (CLIENT_ERROR_CODES.has(err.code)) return { status: 400, body };
    return { status: 500, body };
  }
  const e = err as { statusCode?: unknown; code?: unknown; message?: unknown };
  if (typeof e?.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    return {
      status: e.statusCode,
      body: { error: { code: String(e.code ?? 'BAD_REQUEST'), message: String(e.message ?? 'bad request') } },
    };
  }
  return { status: 500, body: { error: { code: 'INTERNAL', message: 'internal server error' } } };
}

/** Issues of an item-level validation error, with paths made absolute (`items[3].completion`). */
export function prefixIssues(err: unknown, prefix: string): ValidationIssue[] | undefined {
  if (!(err instanceof ValidationError)) return undefined;
  return err.issues.map((i) => ({ path: i.path ? `${prefix}.${i.path}` : prefix, message: i.message }));
}
