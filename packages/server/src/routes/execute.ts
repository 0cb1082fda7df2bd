import { type ExecutionResult, type TestBudget, validate } from '@stepcoder/core';
import type { FastifyInstance } from 'fastify';
import { type ServerContext, withSlot } from '../context.js';
import { executeRequestSchema } from '../schemas.js';

/** `POST /v1/execute`: one program + tests + limits (+ coverage) → the executor's `ExecutionResult`. */
export function executeRoute(app: FastifyInstance, ctx: ServerContext): void {
  app.post('/v1/execute', async (request): Promise<ExecutionResult> => {
    const body = validate(executeRequestSchema, request.body, 'request body', 'INVALID_REQUEST');
    const language = body.language ?? 'python';
    const executor = await ctx.runtime.executorFor(language);
    const result = await withSlot(ctx, request, (signal) =>
      executor.run({
        ...body,
        language,
        // core's schema also takes string seeds (Rng hashes them); its TS type says number.
        testBudget: body.testBudget as TestBudget | undefined,
        limits: ctx.runtime.clampLimits(body.limits),
        signal,
      }),
    );
    ctx.metrics.outcomes.inc({ route: '/v1/execute', outcome: result.outcome });
    return result;
  });
}
