import {
  type ExecutionLimits,
  type ExecutionRequest,
  type ExecutionResult,
  infraErrorResult,
  OUTCOMES,
  StepcoderError,
  selectTests,
  testCount,
} from '@stepcoder/core';

/** What travels through Redis: the request without its AbortSignal (cancellation is pub/sub). */
export type WireRequest = Omit<ExecutionRequest, 'signal'>;

export interface JobData {
  /** Wire version: a worker refuses (never guesses at) a job from a newer caller. */
  v: 1;
  request: WireRequest;
}

export const WIRE_VERSION = 1;

export function byteLength(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value), 'utf8');
}

/** Request → job data, with the executor's default limits applied and the size checked. */
export function encodeJob(
  request: ExecutionRequest,
  defaults: Partial<ExecutionLimits> | undefined,
  maxPayloadBytes: number,
): JobData {
  const { signal: _signal, ...rest } = request;
  const limits = defaults || rest.limits ? { ...defaults, ...rest.limits } : undefined;
  const data: JobData = { v: WIRE_VERSION, request: limits ? { ...rest, limits } : rest };
  const size = byteLength(data);
  if (size > maxPayloadBytes) {
    throw new StepcoderError(
      'PAYLOAD_TOO_LARGE',
      `executor 'queue': request of ${size} bytes exceeds maxPayloadBytes (${maxPayloadBytes}); ` +
        'raise executor.options.maxPayloadBytes or cap the tests (testBudget)',
      { details: { size, maxPayloadBytes } },
    );
  }
  return data;
}

/** Tests the request meant to run: the `total` of an infra_error result. */
export function plannedTests(request: Pick<ExecutionRequest, 'tests' | 'testBudget'>): number {
  try {
    return selectTests(testCount(request.tests), request.testBudget).length;
  } catch {
    return 0;
  }
}

/** A result read back from Redis; anything that is not one becomes `infra_error`. */
export function decodeResult(value: unknown, total: number): ExecutionResult {
  const v = value as Partial<ExecutionResult> | null;
  if (
    typeof v === 'object' &&
    v !== null &&
    typeof v.outcome === 'string' &&
    (OUTCOMES as readonly string[]).includes(v.outcome) &&
    Array.isArray(v.tests) &&
    typeof v.passed === 'number' &&
    typeof v.total === 'number'
  ) {
    return v as ExecutionResult;
  }
  return infraErrorResult('executor queue: a worker published a malformed result', total);
}
