import {
  executionRequestSchema,
  limitsSchema,
  problemSchema,
  testBudgetSchema,
  testSuiteSchema,
} from '@stepcoder/core';
import { z } from 'zod';

/**
 * Request schemas of the HTTP API. They reuse core's Problem / TestSuite / limits schemas, so the
 * service rejects exactly what the executors and loaders reject, with the same paths.
 */

export const languageSchema = z.enum(['python', 'javascript', 'typescript']);

/** A plugin by name, with options for its factory (validated by the plugin's own schema). */
export const pluginRefSchema = z.union([
  z.string().min(1),
  z.strictObject({ name: z.string().min(1), options: z.record(z.string(), z.unknown()).optional() }),
]);
export type PluginRef = z.infer<typeof pluginRefSchema>;

/** `POST /v1/execute`: an `ExecutionRequest` minus the AbortSignal (the server owns cancellation). */
export const executeRequestSchema = executionRequestSchema.omit({ signal: true }).strict();
export type ExecuteRequest = z.infer<typeof executeRequestSchema>;

const tokenOffsetSchema = z.tuple([z.number().int().min(0), z.number().int().min(0)]);

/** What a batch may set once for all its items; an item's own value wins. */
const scoreDefaultsShape = {
  /** Loss-mask strategy (FGO): `line` as published, `none`, `statement`, `branch`, `soft`. */
  mask: pluginRefSchema.optional(),
  /** Reward function: `stepcoder` (the paper's table) or `pass-fraction`. */
  reward: pluginRefSchema.optional(),
  /** Tokenizer the server uses to split `completion` into tokens when no `tokenOffsets` are given. */
  tokenizer: z.string().min(1).optional(),
  /**
   * Unit of `tokenOffsets`: `codepoint` (Python `str` indices, what Hugging Face tokenizers'
   * `offset_mapping` gives) or `utf16` (JavaScript string indices). Differs only past U+FFFF.
   */
  offsetUnits: z.enum(['codepoint', 'utf16']).optional(),
  limits: limitsSchema.optional(),
  testBudget: testBudgetSchema.optional(),
  /** Return the executed / executable lines of each item. */
  coverage: z.boolean().optional(),
};

/**
 * One `/v1/score` item: a completion for a problem (or bare tests), the prefix it was generated
 * after (CCCS), and how its tokens split the completion.
 */
export const scoreItemSchema = z
  .strictObject({
    problem: problemSchema.optional(),
    tests: testSuiteSchema.optional(),
    language: languageSchema.optional(),
    /** Hidden code run around the program (`problem.harness` when a problem is given). */
    preamble: z.string().optional(),
    epilogue: z.string().optional(),
    /** The generated text. The program that runs is `givenPrefix + completion`. */
    completion: z.string(),
    /** The CCCS given prefix the completion continues (`/v1/curriculum/prompt`'s `givenPrefix`). */
    givenPrefix: z.string().default(''),
    /** `[start, end)` of each generated token within `completion`. */
    tokenOffsets: z.array(tokenOffsetSchema).optional(),
    ...scoreDefaultsShape,
  })
  .superRefine((item, ctx) => {
    if ((item.problem === undefined) === (item.tests === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['tests'], message: 'give exactly one of problem or tests' });
    }
    item.tokenOffsets?.forEach(([start, end], i) => {
      if (start > end) {
        ctx.addIssue({ code: 'custom', path: ['tokenOffsets', i], message: `start ${start} > end ${end}` });
      }
    });
  });
export type ScoreItem = z.infer<typeof scoreItemSchema>;

export const scoreDefaultsSchema = z.strictObject(scoreDefaultsShape);
export type ScoreDefaults = z.infer<typeof scoreDefaultsSchema>;

/**
 * `POST /v1/score`. Items are checked one by one (an invalid item fails alone), so the envelope
 * only requires an array; `scoreRequestDocSchema` is the full shape for the OpenAPI document.
 */
export const scoreRequestSchema = z.strictObject({
  items: z.array(z.unknown()).min(1),
  defaults: scoreDefaultsSchema.optional(),
});
export const scoreRequestDocSchema = z.strictObject({
  items: z.array(scoreItemSchema).min(1),
  defaults: scoreDefaultsSchema.optional(),
});

/** `POST /v1/curriculum/prompt`. */
export const curriculumPromptRequestSchema = z.strictObject({
  problem: problemSchema,
  /** 0 is the easiest (most canonical code given); out-of-range stages are clamped. */
  stage: z.number().int().min(0),
  curriculum: z.enum(['steps', 'adaptive', 'none']).default('steps'),
  /** Prompt header template (see @stepcoder/curriculum), e.g. "{{prompt}}\n{{starter}}". */
  template: z.string().optional(),
  /**
   * A tokenizer this server knows (`byte`, or one configured with `--tokenizer name=path`): the
   * cut moves so that tokens(prompt) + tokens(target) == tokens(prompt + target) under it (see the
   * README: without it the cut is at a line start, which a BPE usually straddles).
   */
  tokenizer: z.string().min(1).optional(),
});

/**
 * SandboxFusion's `RunCodeRequest` (sandbox/server/sandbox_api.py). Unknown fields are ignored as
 * pydantic does. `language` is checked separately so that an unsupported one is a 400 that lists
 * the supported ones rather than a long enum dump.
 */
export const runCodeRequestSchema = z.object({
  code: z.string(),
  language: z.string(),
  stdin: z.string().nullish(),
  compile_timeout: z.number().positive().optional(),
  run_timeout: z.number().positive().optional(),
  memory_limit_MB: z.number().int().optional(),
  files: z.record(z.string(), z.string().nullable()).optional(),
  fetch_files: z.array(z.string()).optional(),
});
export type RunCodeRequest = z.infer<typeof runCodeRequestSchema>;
