import {
  type Coverage,
  mapLimited,
  type Outcome,
  StepcoderError,
  type TestBudget,
  type TokenSpan,
  type ValidationIssue,
  validate,
} from '@stepcoder/core';
import { runIsolated } from '@stepcoder/reward/base';
import type { FastifyInstance } from 'fastify';
import { type ServerContext, withSlot } from '../context.js';
import { prefixIssues, toHttpFailure } from '../http-errors.js';
import { type ScoreDefaults, type ScoreItem, scoreItemSchema, scoreRequestSchema } from '../schemas.js';

export interface ScoredItem {
  index: number;
  ok: true;
  outcome: Outcome;
  /** `output_limit`: a test's output passed `limits.maxOutputBytes` and was cut (see core's `TestResult.reason`). */
  reason?: 'output_limit';
  /** Some stdout/stderr was cut at `limits.maxOutputBytes` (the result's `truncated`). */
  truncated: boolean;
  /** The reward function's value; `null` for `infra_error` (leave the sample out of the update). */
  reward: number | null;
  passed: number;
  total: number;
  message?: string;
  durationMs: number;
  /** One loss weight per token (FGO), when the item's tokens are known. */
  weights?: number[];
  /** Executed and executable lines of the program (`givenPrefix + completion`), when collected. */
  coverage?: Pick<Coverage, 'lines' | 'executableLines'>;
}

export interface FailedItem {
  index: number;
  ok: false;
  error: { code: string; message: string; issues?: ValidationIssue[] };
}

/**
 * `POST /v1/score`: execute, reward and mask a batch. The whole batch holds one slot; inside it
 * items run `batchConcurrency` at a time and come back in request order. An item that is invalid
 * or fails comes back alone as `{ ok: false, error }`; the others are unaffected.
 */
export function scoreRoute(app: FastifyInstance, ctx: ServerContext): void {
  app.post('/v1/score', async (request) => {
    const body = validate(scoreRequestSchema, request.body, 'request body', 'INVALID_REQUEST');
    if (body.items.length > ctx.options.maxBatchItems) {
      throw new StepcoderError(
        'INVALID_REQUEST',
        `items: ${body.items.length} items, at most ${ctx.options.maxBatchItems} per request`,
      );
    }
    const defaults = body.defaults ?? {};
    const results = await withSlot(ctx, request, (signal) =>
      mapLimited(body.items, ctx.options.batchConcurrency, (raw, index) =>
        scoreOne(ctx, raw, index, defaults, signal).catch((err): FailedItem => {
          const failure = toHttpFailure(err);
          const issues = prefixIssues(err, `items[${index}]`);
          // An item's own failure (a mask or reward that threw) is worth its message to the caller.
          const message =
            failure.status >= 500 && err instanceof Error ? err.message : failure.body.error.message;
          return {
            index,
            ok: false,
            error: { ...failure.body.error, message, ...(issues ? { issues } : {}) },
          };
        }),
      ),
    );
    for (const r of results) {
      ctx.metrics.outcomes.inc({ route: '/v1/score', outcome: r.ok ? r.outcome : 'invalid_item' });
    }
    return { results };
  });
}

async function scoreOne(
  ctx: ServerContext,
  raw: unknown,
  index: number,
  defaults: ScoreDefaults,
  signal: AbortSignal,
): Promise<ScoredItem> {
  const item = validate(scoreItemSchema, raw, `items[${index}]`, 'INVALID_REQUEST');
  const language = item.language ?? item.problem?.language ?? 'python';
  const [executor, reward, mask] = await Promise.all([
    ctx.runtime.executorFor(language),
    ctx.runtime.reward(item.reward ?? defaults.reward ?? ctx.options.reward),
    ctx.runtime.mask(item.mask ?? defaults.mask ?? ctx.options.mask),
  ]);
  const spans = await tokenSpans(ctx, item, defaults, index);
  const wantCoverage = item.coverage ?? defaults.coverage ?? false;
  const coverage = wantCoverage || (spans !== undefined && mask.needsCoverage);
  const program = item.givenPrefix + item.completion;
  // As in the trainer's batches: an executor that throws gives this item an infra_error result
  // (reward null), never a failed batch.
  const result = await runIsolated(executor, {
    program,
    language,
    tests: item.tests ?? item.problem!.tests,
    limits: ctx.runtime.clampLimits(item.limits ?? defaults.limits),
    testBudget: (item.testBudget ?? defaults.testBudget) as TestBudget | undefined,
    coverage,
    // As the trainer does: a verdict alone may stop at the first failure; coverage needs all tests.
    stopOnFirstFailure: !coverage,
    preamble: item.preamble ?? item.problem?.harness?.preamble,
    epilogue: item.epilogue ?? item.problem?.harness?.epilogue,
    signal,
  });
  const out: ScoredItem = {
    index,
    ok: true,
    outcome: result.outcome,
    ...(result.reason && { reason: result.reason }),
    truncated: result.truncated === true,
    reward: reward.score(result),
    passed: result.passed,
    total: result.total,
    message: result.message,
    durationMs: result.durationMs,
  };
  if (spans) {
    const weights = mask.weights({
      program,
      completionStart: item.givenPrefix.length,
      tokenSpans: spans,
      language,
      outcome: result.outcome,
      coverage: result.coverage,
    });
    out.weights = Array.from(weights);
  }
  if (wantCoverage && result.coverage) {
    out.coverage = { lines: result.coverage.lines, executableLines: result.coverage.executableLines };
  }
  return out;
}

/** Token spans in UTF-16 units of `completion`: the client's offsets, or the named tokenizer's. */
async function tokenSpans(
  ctx: ServerContext,
  item: ScoreItem,
  defaults: ScoreDefaults,
  index: number,
): Promise<TokenSpan[] | undefined> {
  if (item.tokenOffsets) {
    const units = item.offsetUnits ?? defaults.offsetUnits ?? 'codepoint';
    const toUtf16 = units === 'codepoint' ? codepointToUtf16(item.completion) : undefined;
    const length = toUtf16 ? toUtf16.length - 1 : item.completion.length;
    return item.tokenOffsets.map(([start, end], i): TokenSpan => {
      if (end > length) {
        throw new StepcoderError(
          'INVALID_REQUEST',
          `items[${index}].tokenOffsets[${i}]: end ${end} is past the completion's ${length} ${units === 'codepoint' ? 'code points' : 'UTF-16 units'}`,
        );
      }
      return toUtf16 ? [toUtf16[start]!, toUtf16[end]!] : [start, end];
    });
  }
  const name = item.tokenizer ?? defaults.tokenizer;
  if (name === undefined) return undefined;
  const tokenizer = await ctx.runtime.tokenizer(name);
  return tokenizer.encodeWithOffsets(item.completion).offsets;
}

/** `map[i]` = UTF-16 index of code point `i`; one extra entry for the end of the text. */
function codepointToUtf16(text: string): number[] {
  const map: number[] = [];
  let u = 0;
  for (const ch of text) {
    map.push(u);
    u += ch.length;
  }
  map.push(u);
  return map;
}
