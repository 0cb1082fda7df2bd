import { type Curriculum, StepcoderError, validate } from '@stepcoder/core';
import { z } from 'zod';
import { createStagePrompter, type StagePrompter } from './curriculum-base.js';
import { commonCurriculumShape } from './options.js';

export const stepsCurriculumSchema = z.strictObject({
  ...commonCurriculumShape,
  /** Training updates spent on each stage before moving to the next (harder) one. */
  stepsPerStage: z.number().int().positive().default(100),
});

export type StepsCurriculumOptions = z.input<typeof stepsCurriculumSchema>;

export interface StepsCurriculum extends Curriculum {
  readonly name: 'steps';
  readonly stepsPerStage: number;
  readonly prompter: StagePrompter;
}

/**
 * The published schedule: every problem is at stage `min(floor(step / stepsPerStage), last)`.
 * Stateless apart from its options, so `state()` only records them for a consistency check.
 */
export function createStepsCurriculum(options: StepsCurriculumOptions = {}): StepsCurriculum {
  const opts = validate(stepsCurriculumSchema, options, "options of curriculum 'steps'");
  const prompter = createStagePrompter(opts);
  return {
    specificationVersion: 'v1',
    name: 'steps',
    stepsPerStage: opts.stepsPerStage,
    prompter,
    async stageOf(problem, step) {
      const count = await prompter.stageCount(problem);
      return Math.min(Math.floor(Math.max(step, 0) / opts.stepsPerStage), count - 1);
    },
    prompt: (problem, stage) => prompter.prompt(problem, stage),
    record() {},
    state() {
      return { schedule: 'steps', version: 1, stepsPerStage: opts.stepsPerStage };
    },
    restore(state) {
      const s = state as { schedule?: unknown } | null;
      if (s?.schedule !== 'steps') {
        throw new StepcoderError(
          'CHECKPOINT',
          `Cannot restore curriculum 'steps' from state of schedule ${JSON.stringify(s?.schedule)}`,
        );
      }
    },
  };
}
