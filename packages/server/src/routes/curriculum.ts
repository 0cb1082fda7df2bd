import { alignPromptToTokens, type CurriculumPrompt, type Problem, validate } from '@stepcoder/core';
import type { FastifyInstance } from 'fastify';
import { type ServerContext, withSlot } from '../context.js';
import { curriculumPromptRequestSchema } from '../schemas.js';

/**
 * `POST /v1/curriculum/prompt`: the CCCS prompt of a problem at a stage. It holds a slot like
 * execution does: splitting a Python solution runs the interpreter's parser. With `tokenizer`,
 * the cut is aligned to that tokenizer's tokens (`alignPromptToTokens`).
 */
export function curriculumRoute(app: FastifyInstance, ctx: ServerContext): void {
  app.post('/v1/curriculum/prompt', async (request): Promise<CurriculumPrompt> => {
    const body = validate(curriculumPromptRequestSchema, request.body, 'request body', 'INVALID_REQUEST');
    const curriculum = await ctx.runtime.curriculum(body.curriculum, body.template);
    const tokenizer = body.tokenizer === undefined ? undefined : await ctx.runtime.tokenizer(body.tokenizer);
    const cp = await withSlot(ctx, request, async () =>
      curriculum.prompt(body.problem as Problem, body.stage),
    );
    if (!tokenizer) return cp;
    const encode = (text: string) => tokenizer.encodeWithOffsets(text).ids;
    return alignPromptToTokens(cp, { encode, encodeWithOffsets: (t) => tokenizer.encodeWithOffsets(t) })
      .prompt;
  });
}
