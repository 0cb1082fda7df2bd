import {
  DEFAULT_LIMITS,
  type ExecutionLimits,
  type ExecutionRequest,
  executionRequestSchema,
  validate,
} from '@stepcoder/core';
import { z } from 'zod';

const WHERE = "execution request of executor 'js'";

const requestSchema = executionRequestSchema.extend({
  language: z.enum(['javascript', 'typescript']).optional(),
});

/** Validate a request; throws a ValidationError that names the bad field. */
export function checkRequest(request: ExecutionRequest): void {
  validate(requestSchema, request, WHERE, 'INVALID_PROBLEM');
}

export function resolveLimits(
  defaults: Partial<ExecutionLimits> | undefined,
  memoryMb: number | undefined,
  request: Partial<ExecutionLimits> | undefined,
): ExecutionLimits {
  return {
    ...DEFAULT_LIMITS,
    ...defaults,
    ...(memoryMb === undefined ? {} : { memoryMb }),
    ...request,
  };
}

/**
 * JSON text of one call: the arguments travel into the isolate as a string and are parsed there,
 * so the candidate gets fresh objects it may mutate freely. Throws naming the test on values that
 * JSON cannot carry (BigInt, cycles, functions).
 */
export function encodeCall(
  fnName: string,
  className: string | undefined,
  args: unknown[],
  index: number,
): string {
  let text: string | undefined;
  try {
    text = JSON.stringify({ fnName, className, args });
  } catch (err) {
    throw new Error(`tests.inputs[${index}] cannot be encoded as JSON: ${(err as Error).message}`);
  }
  if (text === undefined) throw new Error(`tests.inputs[${index}] cannot be encoded as JSON`);
  return text;
}

const TAG = '\u0000stepcoder';

/** Decode a value the harness encoded (JSON with tags for NaN, ±Infinity and undefined). */
export function decodeValue(text: string): unknown {
  return JSON.parse(text, (_key, value: unknown) => {
    if (value !== null && typeof value === 'object' && !Array.isArray(value) && TAG in value) {
      const tag = (value as Record<string, unknown>)[TAG];
      if (tag === 'NaN') return Number.NaN;
      if (tag === 'Infinity') return Number.POSITIVE_INFINITY;
      if (tag === '-Infinity') return Number.NEGATIVE_INFINITY;
      if (tag === 'undefined') return undefined;
    }
    return value;
  });
}
