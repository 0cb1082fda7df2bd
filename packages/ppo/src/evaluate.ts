import type { Curriculum, EventBus, ExecutionLimits, Executor, Problem, TestBudget } from '@stepcoder/core';
import { alignPromptToTokens, createRng, mapLimited, StepcoderError } from '@stepcoder/core';
import { passAtK } from './pass-at-k.js';
import { createPlainCurriculum, finalStagePrompt } from './plain-curriculum.js';
import type { PolicyGenerator, TrainablePolicy } from './policy.js';

export interface EvaluateOptions {
  policy: TrainablePolicy;
  problems: readonly Problem[];
  executor: Executor;
  /** The k of each pass@k reported; every k must be ≤ n. */
  k: number[];
  /** Samples per problem. */
  n: number;
  seed: number;
  /** Prompt template (its last stage: the whole program). Default `createPlainCurriculum()`. */
  curriculum?: Curriculum;
  /** Default min(256, nPositions / 2). */
  maxNewTokens?: number;
  temperature?: number;
  topK?: number;
  topP?: number;
  stop?: string[];
  /** Prompts per `generate` call. */
  batchSize?: number;
  limits?: Partial<ExecutionLimits>;
  testBudget?: TestBudget;
  concurrency?: number;
  /** Align the prompt's cut to the tokenizer, as SFT and the trainer do (default true). */
  alignPrompts?: boolean;
  /**
   * More generators holding the policy's weights (e.g. a `GeneratorWorker` on another core):
   * chunks are dealt round-robin to the policy and these, each generating while the others'
   * programs execute. Chunk seeds are drawn in chunk order and chunk i always goes to generator
   * i mod (1 + extra), so a run with the same generators reproduces.
   */
  generators?: readonly PolicyGenerator[];
  events?: EventBus;
}

export interface ProblemEvaluation {
  id: string;
  difficulty?: string;
  /** Samples with a verdict (infrastructure failures and failed generations excluded). */
  n: number;
  /** Samples that passed every test. */
  c: number;
  infraErrors: number;
}

export interface PassAtKSummary {
  problems: number;
  /** `pass@k` → mean over problems with at least k judged samples. */
  passAtK: Record<string, number>;
}

export interface EvaluationReport extends PassAtKSummary {
  n: number;
  k: number[];
  seed: number;
  byDifficulty: Record<string, PassAtKSummary>;
  perProblem: ProblemEvaluation[];
  durationMs: number;
}

function summarise(rows: readonly ProblemEvaluation[], ks: readonly number[]): PassAtKSummary {
  const passAt: Record<string, number> = {};
  for (const k of ks) {
    const eligible = rows.filter((r) => r.n >= k);
    passAt[`pass@${k}`] = eligible.length
      ? eligible.reduce((a, r) => a + passAtK(r.n, r.c, k), 0) / eligible.length
      : Number.NaN;
  }
  return { problems: rows.length, passAtK: passAt };
}

/**
 * pass@k with the unbiased estimator over `n` samples per problem (Chen et al., 2021), overall and
 * per difficulty. The report is plain JSON (NaN only where no problem had k judged samples).
 */
export async function evaluatePassAtK(options: EvaluateOptions): Promise<EvaluationReport> {
  const { policy, problems, executor, k: ks, n, seed } = options;
  if (!Number.isInteger(n) || n < 1)
    throw new StepcoderError('INVALID_OPTIONS', `evaluate: n must be a positive integer, got ${n}`);
  const badK = ks.filter((k) => !Number.isInteger(k) || k < 1 || k > n);
  if (ks.length === 0 || badK.length) {
    throw new StepcoderError(
      'INVALID_OPTIONS',
      `evaluate: every k must be an integer in [1, n=${n}], got [${ks.join(', ')}]`,
    );
  }
  const start = performance.now();
  const curriculum = options.curriculum ?? createPlainCurriculum();
  const rng = createRng(seed).split('evaluate');
  const batchSize = Math.max(1, options.batchSize ?? 8);
  const jobs: Array<{ problem: number; prompt: string; givenPrefix: string }> = [];
  for (const [i, problem] of problems.entries()) {
    const raw = await finalStagePrompt(curriculum, problem);
    // The same cut SFT and the trainer use (their `alignPrompts` default).
    const cp = options.alignPrompts === false ? raw : alignPromptToTokens(raw, policy.tokenizer).prompt;
    for (let s = 0; s < n; s++) jobs.push({ problem: i, prompt: cp.prompt, givenPrefix: cp.givenPrefix });
  }
  const rows: ProblemEvaluation[] = problems.map((p) => ({
    id: p.id,
    difficulty: p.difficulty,
    n: 0,
    c: 0,
    infraErrors: 0,
  }));
  const lanes: Array<Pick<PolicyGenerator, 'generate'>> = [policy, ...(options.generators ?? [])];
  const chunks: Array<{ part: typeof jobs; seed: number }> = [];
  for (let s = 0; s < jobs.length; s += batchSize) {
    chunks.push({ part: jobs.slice(s, s + batchSize), seed: rng.nextUint32() });
  }
  let done = 0;
  const runChunk = async (lane: Pick<PolicyGenerator, 'generate'>, part: typeof jobs, genSeed: number) => {
    let gens: Array<{ text: string } | undefined>;
    try {
      gens = await lane.generate(
        part.map((j) => j.prompt),
        {
          maxNewTokens: options.maxNewTokens ?? Math.min(256, Math.floor(policy.config.nPositions / 2)),
          temperature: options.temperature ?? 1,
          topK: options.topK,
          topP: options.topP,
          stop: options.stop,
          seed: genSeed,
        },
      );
    } catch (err) {
      options.events?.emit('log', {
        level: 'warn',
        source: 'evaluate',
        message: `generation failed: ${String(err)}`,
      });
      gens = part.map(() => undefined);
    }
    await mapLimited(part, options.concurrency ?? 16, async (job, i) => {
      const row = rows[job.problem]!;
      const gen = gens[i];
      if (!gen) return;
      const problem = problems[job.problem]!;
      try {
        const result = await executor.run({
          program: job.givenPrefix + gen.text,
          language: problem.language,
          tests: problem.tests,
          limits: options.limits,
          testBudget: options.testBudget,
          stopOnFirstFailure: true,
          preamble: problem.harness?.preamble,
          epilogue: problem.harness?.epilogue,
        });
        if (result.outcome === 'infra_error') {
          row.infraErrors++;
          return;
        }
        row.n++;
        if (result.outcome === 'pass') row.c++;
      } catch {
        row.infraErrors++;
      }
    });
    done += part.length;
    options.events?.emit('progress', { task: 'evaluate', done, total: jobs.length });
  };
  await Promise.all(
    lanes.map(async (lane, l) => {
      for (let c = l; c < chunks.length; c += lanes.length) {
        // A turn between chunks: an in-process generate may never yield to the event loop.
        await new Promise((resolve) => setImmediate(resolve));
        await runChunk(lane, chunks[c]!.part, chunks[c]!.seed);
      }
    }),
  );
  const byDifficulty: Record<string, PassAtKSummary> = {};
  const difficulties = [
    ...new Set(rows.map((r) => r.difficulty).filter((d): d is string => d !== undefined)),
  ].sort();
  for (const d of difficulties)
    byDifficulty[d] = summarise(
      rows.filter((r) => r.difficulty === d),
      ks,
    );
  return {
    ...summarise(rows, ks),
    n,
    k: [...ks],
    seed,
    byDifficulty,
    perProblem: rows,
    durationMs: performance.now() - start,
  };
}
