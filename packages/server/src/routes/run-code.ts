import { validate } from '@stepcoder/core';
import { runIsolated } from '@stepcoder/reward/base';
import type { FastifyInstance } from 'fastify';
import { type ServerContext, withSlot } from '../context.js';
import { planRunCode, type RunCodeResponse, toRunCodeResponse } from '../sandbox-fusion.js';
import { runCodeRequestSchema } from '../schemas.js';

/**
 * SandboxFusion-compatible `POST /run_code`: veRL's `sandbox_fusion` reward and other SandboxFusion
 * clients work against this server by changing only their URL.
 */
export function runCodeRoute(app: FastifyInstance, ctx: ServerContext): void {
  app.post('/run_code', async (request): Promise<RunCodeResponse> => {
    const body = validate(runCodeRequestSchema, request.body, 'request body', 'INVALID_REQUEST');
    const plan = planRunCode(body);
    const executor = await ctx.runtime.executorFor(plan.language);
    // An executor that throws is SandboxFusion's SandboxError (via infra_error), not an HTTP 500.
    const result = await withSlot(ctx, request, (signal) =>
      runIsolated(executor, {
        program: plan.program,
        language: plan.language,
        tests: { kind: 'stdio', cases: [{ input: plan.stdin, output: '' }] },
        // The output cap is the operator's (`runCodeMaxOutputBytes`, SandboxFusion's 1 MiB by
        // default): SandboxFusion's request has no field a client could set it with.
        limits: {
          ...ctx.runtime.clampLimits(plan.limits),
          maxOutputBytes: ctx.options.runCodeMaxOutputBytes,
        },
        preamble: plan.preamble,
        signal,
      }),
    );
    ctx.metrics.outcomes.inc({ route: '/run_code', outcome: result.outcome });
    return toRunCodeResponse(result, ctx.options.runCodeMaxOutputBytes);
  });
}
