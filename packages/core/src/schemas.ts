import { z } from 'zod';
import type { ExecutionLimits } from './execution.js';
import type { Problem } from './problem.js';
import { validate } from './validation.js';

/** Schema of `ExecutionLimits` (all optional: executors fill in `DEFAULT_LIMITS`). */
export const limitsSchema = z
  .object({
    timeoutMs: z.number().int().positive(),
    totalTimeoutMs: z.number().int().positive(),
    memoryMb: z.number().int().min(16),
    maxOutputBytes: z.number().int().positive(),
  })
  .partial()
  .strict() satisfies z.ZodType<Partial<ExecutionLimits>>;

const languageSchema = z.enum(['python', 'javascript', 'typescript']);

export const testSuiteSchema = z.discriminatedUnion('kind', [
  z
    .object({
      kind: z.literal('stdio'),
      cases: z.array(z.object({ input: z.string(), output: z.string() }).strict()),
    })
    .strict(),
  z
    .object({
      kind: z.literal('call'),
      fnName: z.string().min(1),
      className: z.string().min(1).optional(),
      inputs: z.array(z.array(z.unknown())),
      outputs: z.array(z.unknown()),
    })
    .strict()
    .refine((t) => t.inputs.length === t.outputs.length, {
      message: 'inputs and outputs must have the same length',
      path: ['outputs'],
    }),
  z
    .object({
      kind: z.literal('assert'),
      cases: z.array(z.string()),
      setup: z.string().optional(),
      entryPoint: z.string().optional(),
    })
    .strict(),
]);

export const problemSchema = z
  .object({
    id: z.string().min(1),
    prompt: z.string(),
    language: languageSchema,
    canonicalSolutions: z.array(z.string()),
    starterCode: z.string().optional(),
    tests: testSuiteSchema,
    difficulty: z.string().optional(),
    harness: z
      .object({ preamble: z.string().optional(), epilogue: z.string().optional() })
      .strict()
      .optional(),
    source: z
      .object({
        dataset: z.string(),
        file: z.string().optional(),
        row: z.union([z.number(), z.string()]).optional(),
      })
      .optional(),
    meta: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();

export const testBudgetSchema = z.union([
  z.object({ first: z.number().int().min(0) }).strict(),
  z.object({ sample: z.number().int().min(0), seed: z.union([z.number(), z.string()]) }).strict(),
]);

/**
 * Schema of an `ExecutionRequest`, shared by executors so that every executor rejects the same
 * malformed requests with the same paths. Executors narrow `language` with `.extend`.
 */
export const executionRequestSchema = z.object({
  program: z.string(),
  language: languageSchema.optional(),
  tests: testSuiteSchema,
  limits: limitsSchema.optional(),
  coverage: z.boolean().optional(),
  stopOnFirstFailure: z.boolean().optional(),
  testBudget: testBudgetSchema.optional(),
  preamble: z.string().optional(),
  epilogue: z.string().optional(),
  signal: z.custom<AbortSignal>((v) => v instanceof AbortSignal, 'expected an AbortSignal').optional(),
});

/** Validate a Problem built by a loader or a user; throws a ValidationError naming each bad field. */
export function parseProblem(input: unknown, where = 'problem'): Problem {
  return validate(problemSchema, input, where, 'INVALID_PROBLEM') as Problem;
}
