import { OUTCOMES } from '@stepcoder/core';
import { z } from 'zod';
import { RUN_CODE_LANGUAGES } from './sandbox-fusion.js';
import {
  curriculumPromptRequestSchema,
  executeRequestSchema,
  runCodeRequestSchema,
  scoreRequestDocSchema,
} from './schemas.js';

const jsonSchema = (schema: z.ZodType) =>
  z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any', target: 'draft-2020-12' });

const errorResponse = (description: string) => ({
  description,
  content: {
    'application/json': {
      schema: {
        type: 'object',
        properties: {
          error: {
            type: 'object',
            properties: {
              code: { type: 'string' },
              message: { type: 'string' },
              issues: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: { path: { type: 'string' }, message: { type: 'string' } },
                },
              },
            },
            required: ['code', 'message'],
          },
        },
      },
    },
  },
});

/** `{ stdout, stderr }`: which streams were cut at `maxOutputBytes`. */
const truncatedStreamsSchema = {
  type: 'object',
  description: 'which streams were cut at limits.maxOutputBytes',
  properties: { stdout: { type: 'boolean' }, stderr: { type: 'boolean' } },
  required: ['stdout', 'stderr'],
};

const reasonSchema = {
  type: 'string',
  enum: ['output_limit'],
  description:
    "why a failure failed where the outcome does not say: 'output_limit' = the output passed limits.maxOutputBytes and was cut, so it was not compared as if complete (outcome runtime_error)",
};

const outcomeSchema = { type: 'string', enum: [...OUTCOMES] };

/** core's `ExecutionResult` (what `/v1/execute` answers), with the truncation fields spelled out. */
const executionResultSchema = {
  type: 'object',
  properties: {
    outcome: outcomeSchema,
    reason: reasonSchema,
    passed: { type: 'integer' },
    total: { type: 'integer' },
    durationMs: { type: 'number' },
    message: { type: 'string' },
    stdout: { type: 'string', description: 'all tests’ stdout, at most limits.maxOutputBytes UTF-8 bytes' },
    stderr: { type: 'string', description: 'all tests’ stderr, at most limits.maxOutputBytes UTF-8 bytes' },
    truncated: {
      type: 'boolean',
      description:
        'some stdout/stderr (of a test, or of the concatenation here) was cut at limits.maxOutputBytes',
    },
    truncatedStreams: truncatedStreamsSchema,
    tests: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          index: { type: 'integer' },
          outcome: outcomeSchema,
          reason: reasonSchema,
          durationMs: { type: 'number' },
          message: { type: 'string' },
          stdout: { type: 'string' },
          stderr: { type: 'string' },
          truncated: {
            type: 'boolean',
            description: "this test's stdout or stderr was cut at limits.maxOutputBytes",
          },
          truncatedStreams: truncatedStreamsSchema,
          expected: {},
          actual: {},
        },
        required: ['index', 'outcome', 'durationMs'],
      },
    },
    coverage: { type: 'object' },
    sandbox: { type: 'string' },
    queueMs: { type: 'number' },
  },
  required: ['outcome', 'tests', 'passed', 'total', 'durationMs', 'stdout', 'stderr', 'truncated'],
};

const commandRunResultSchema = {
  type: ['object', 'null'],
  properties: {
    status: { type: 'string', enum: ['Finished', 'Error', 'TimeLimitExceeded'] },
    execution_time: { type: ['number', 'null'] },
    return_code: { type: ['integer', 'null'] },
    stdout: { type: ['string', 'null'] },
    stderr: { type: ['string', 'null'] },
  },
  required: ['status', 'execution_time', 'return_code', 'stdout', 'stderr'],
};

/** SandboxFusion's `RunCodeResponse`, and how a cut output is reported. */
const runCodeResponseSchema = {
  type: 'object',
  properties: {
    status: {
      type: 'string',
      enum: ['Success', 'Failed', 'SandboxError'],
      description:
        "a run whose stdout or stderr passed the server's runCodeMaxOutputBytes (default 1 MiB, SandboxFusion's own read limit) is never Success: SandboxError with run_result.status Error (Failed with TimeLimitExceeded if it also timed out), and `message` names the cut stream",
    },
    message: { type: 'string' },
    compile_result: commandRunResultSchema,
    run_result: commandRunResultSchema,
    executor_pod_name: { type: ['string', 'null'] },
    files: { type: 'object', additionalProperties: { type: 'string' } },
  },
  required: ['status', 'message', 'compile_result', 'run_result', 'executor_pod_name', 'files'],
};

function post(summary: string, schema: z.ZodType, ok: string, okSchema?: Record<string, unknown>) {
  return {
    post: {
      summary,
      security: [{ bearer: [] }],
      requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(schema) } } },
      responses: {
        200: okSchema
          ? { description: ok, content: { 'application/json': { schema: okSchema } } }
          : { description: ok },
        400: errorResponse('invalid request; `issues` names each offending path'),
        401: errorResponse('missing or invalid API key'),
        413: errorResponse('body larger than the server limit'),
        429: errorResponse('queue full; retry after the `Retry-After` header'),
        503: errorResponse('shutting down, or the executor for the language is unavailable'),
        504: errorResponse('request deadline exceeded'),
      },
    },
  };
}

/** The OpenAPI 3.1 document, generated from the same zod schemas that validate requests. */
export function openApiDocument(version: string): Record<string, unknown> {
  return {
    openapi: '3.1.0',
    info: {
      title: 'stepcoder server',
      version,
      description: 'StepCoder executors, rewards, CCCS prompts and FGO masks over HTTP',
    },
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    paths: {
      '/v1/execute': post(
        'Run one program against tests',
        executeRequestSchema,
        'the ExecutionResult; output past limits.maxOutputBytes is cut and flagged in truncated / truncatedStreams, and a stdio test whose stdout was cut is runtime_error with reason output_limit',
        executionResultSchema,
      ),
      '/v1/score': post(
        'Execute, reward and mask a batch of completions',
        scoreRequestDocSchema,
        '`{ results: [...] }` in item order; each `{ ok: true, outcome, reason?, truncated, reward, weights?, coverage? }` or `{ ok: false, error }`',
      ),
      '/v1/curriculum/prompt': post(
        'CCCS prompt of a problem at a stage',
        curriculumPromptRequestSchema,
        '`{ prompt, givenPrefix, target, completionStart, stage, stageCount }`',
      ),
      '/run_code': post(
        `SandboxFusion-compatible run (languages: ${Object.keys(RUN_CODE_LANGUAGES).join(', ')})`,
        runCodeRequestSchema,
        'SandboxFusion RunCodeResponse',
        runCodeResponseSchema,
      ),
      '/healthz': { get: { summary: 'liveness', responses: { 200: { description: 'alive' } } } },
      '/readyz': {
        get: {
          summary: 'readiness: executors warm',
          responses: { 200: { description: 'ready' }, 503: { description: 'warming up or shutting down' } },
        },
      },
      '/metrics': {
        get: { summary: 'Prometheus metrics', responses: { 200: { description: 'text exposition format' } } },
      },
    },
  };
}
