import { type Curriculum, createRng, Rng, validate } from '@stepcoder/core';
import { z } from 'zod';
import { createStagePrompter, type StagePrompter } from './curriculum-base.js';
import { commonCurriculumShape } from './options.js';

export const adaptiveCurriculumSchema = z
  .strictObject({
    ...commonCurriculumShape,
    /** Recent rollouts of a problem's current stage that its pass rate is measured over. */
    window: z.number().int().positive().default(8),
    /** Rollouts needed at a stage before it can change; default: `window`. */
    minSamples: z.number().int().positive().optional(),
    /** Advance (less code given) when the pass rate is at least this. */
    advanceAt: z.number().gt(0).lte(1).default(0.6),
    /** Go back one stage (more code given) when the pass rate is below this. */
    fallbackBelow: z.number().gte(0).lt(1).default(0.1),
    /** Stage every problem starts at (clamped to its last stage). */
    startStage: z.number().int().nonnegative().default(0),
    /** Probability of serving a uniformly drawn easier stage instead (review); 0 disables. */
    reviewProb: z.number().gte(0).lt(1).default(0),
    /** Seed of the review sampling. */
    seed: z.union([z.number(), z.string()]).default(0),
  })
  .refine((o) => o.fallbackBelow < o.advanceAt, {
    message: 'fallbackBelow must be below advanceAt',
    path: ['fallbackBelow'],
  })
  .refine((o) => o.minSamples === undefined || o.minSamples <= o.window, {
    message: 'minSamples cannot exceed window',
    path: ['minSamples'],
  });

export type AdaptiveCurriculumOptions = z.input<typeof adaptiveCurriculumSchema>;

/** Per-problem schedule state. */
export interface AdaptiveProblemState {
  stage: number;
  /** Known once the problem was split; advancing stops at `stageCount - 1`. */
  stageCount?: number;
  /** Outcomes (1 pass, 0 fail) of the latest rollouts at `stage`, oldest first. */
  recent: number[];
}

const stateSchema = z.strictObject({
  schedule: z.literal('adaptive'),
  version: z.literal(1),
  rng: z.strictObject({
    path: z.string(),
    s: z.tuple([z.number(), z.number(), z.number(), z.number()]),
  }),
  problems: z.record(
    z.string(),
    z.strictObject({
      stage: z.number().int().nonnegative(),
      stageCount: z.number().int().positive().optional(),
      recent: z.array(z.union([z.literal(0), z.literal(1)])),
    }),
  ),
});

export type AdaptiveCurriculumState = z.output<typeof stateSchema>;

export interface AdaptiveCurriculum extends Curriculum {
  readonly name: 'adaptive';
  readonly prompter: StagePrompter;
  /** Current state of one problem (undefined before its first `stageOf`/`record`). */
  problemState(problemId: string): Readonly<AdaptiveProblemState> | undefined;
  state(): AdaptiveCurriculumState;
}

/**
 * Per-problem adaptive schedule. Each problem starts at `startStage`; once `minSamples` rollouts of
 * its current stage are recorded, a pass rate over the last `window` of them at or above
 * `advanceAt` moves it one stage harder, a rate below `fallbackBelow` one stage easier; anything in
 * between holds. Each move clears the window. Feedback for another stage than the problem's
 * current one (review samples, stale rollouts) is ignored.
 */
export function createAdaptiveCurriculum(options: AdaptiveCurriculumOptions = {}): AdaptiveCurriculum {
  const opts = validate(adaptiveCurriculumSchema, options, "options of curriculum 'adaptive'");
  const minSamples = opts.minSamples ?? opts.window;
  const prompter = createStagePrompter(opts);
  let problems = new Map<string, AdaptiveProblemState>();
  let rng: Rng = createRng(opts.seed).split('curriculum-adaptive');

  const stateOf = (id: string): AdaptiveProblemState => {
    let s = problems.get(id);
    if (!s) {
      s = { stage: opts.startStage, recent: [] };
      problems.set(id, s);
    }
    return s;
  };

  return {
    specificationVersion: 'v1',
    name: 'adaptive',
    prompter,
    async stageOf(problem) {
      const count = await prompter.stageCount(problem);
      const s = stateOf(problem.id);
      s.stageCount = count;
      if (s.stage > count - 1) {
        s.stage = count - 1;
        s.recent = [];
      }
      if (opts.reviewProb > 0 && s.stage > 0 && rng.next() < opts.reviewProb) return rng.int(s.stage);
      return s.stage;
    },
    prompt: (problem, stage) => prompter.prompt(problem, stage),
    record(feedback) {
      const s = stateOf(feedback.problemId);
      if (feedback.stage !== s.stage) return;
      s.recent.push(feedback.passed ? 1 : 0);
      if (s.recent.length > opts.window) s.recent.splice(0, s.recent.length - opts.window);
      if (s.recent.length < minSamples) return;
      const rate = s.recent.reduce((a, b) => a + b, 0) / s.recent.length;
      const last = s.stageCount === undefined ? Number.POSITIVE_INFINITY : s.stageCount - 1;
      if (rate >= opts.advanceAt && s.stage < last) {
        s.stage++;
        s.recent = [];
      } else if (rate < opts.fallbackBelow && s.stage > 0) {
        s.stage--;
        s.recent = [];
      }
    },
    problemState(problemId) {
      return problems.get(problemId);
    },
    state() {
      const out: AdaptiveCurriculumState['problems'] = {};
      for (const [id, s] of problems) {
        out[id] = {
          stage: s.stage,
          ...(s.stageCount !== undefined ? { stageCount: s.stageCount } : {}),
          recent: s.recent.map((r) => (r ? 1 : 0)),
        };
      }
      return { schedule: 'adaptive', version: 1, rng: rng.state(), problems: out };
    },
    restore(state) {
      const s = validate(stateSchema, state, "state of curriculum 'adaptive'", 'CHECKPOINT');
      problems = new Map(
        Object.entries(s.problems).map(([id, p]) => [
          id,
          { stage: p.stage, stageCount: p.stageCount, recent: [...p.recent] },
        ]),
      );
      rng = Rng.fromState(s.rng as Parameters<typeof Rng.fromState>[0]);
    },
  };
}
