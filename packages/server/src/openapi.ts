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

function post(summary: string, schema: z.ZodType, ok: string) {
  return {
    post: {
      summary,
      security: [{ bearer: [] }],
      requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(schema) } } },
      responses: {
        200: { description: ok },
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
      '/v1/execute': post('Run one program against tests', executeRequestSchema, 'the ExecutionResult'),
      '/v1/score': post(
        'Execute, reward and mask a batch of completions',
        scoreRequestDocSchema,
        '`{ results: [...] }` in item order; each `{ ok: true, outcome, reward, weights?, coverage? }` or `{ ok: false, error }`',
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
