import { type Curriculum, StepcoderError, validate } from '@stepcoder/core';
import { z } from 'zod';
import { createStagePrompter, type StagePrompter } from './curriculum-base.js';
import { commonCurriculumShape } from './options.js';

export const noneCurriculumSchema = z.strictObject({ ...commonCurriculumShape });

export type NoneCurriculumOptions = z.input<typeof noneCurriculumSchema>;

export interface NoneCurriculum extends Curriculum {
  readonly name: 'none';
  readonly prompter: StagePrompter;
}

/**
 * Plain generation, the ablation baseline: every prompt is the final stage (only the starter code
 * given; the model writes the whole program), whatever stage is asked for. Stage numbers are the
 * real final stage of each problem so metrics compare with the other schedules.
 */
export function createNoneCurriculum(options: NoneCurriculumOptions = {}): NoneCurriculum {
  const opts = validate(noneCurriculumSchema, options, "options of curriculum 'none'");
  const prompter = createStagePrompter(opts);
  return {
    specificationVersion: 'v1',
    name: 'none',
    prompter,
    async stageOf(problem) {
      return (await prompter.stageCount(problem)) - 1;
    },
    async prompt(problem) {
      return prompter.prompt(problem, (await prompter.stageCount(problem)) - 1);
    },
    record() {},
    state() {
      return { schedule: 'none', version: 1 };
    },
    restore(state) {
      const s = state as { schedule?: unknown } | null;
      if (s?.schedule !== 'none') {
        throw new StepcoderError(
          'CHECKPOINT',
          `Cannot restore curriculum 'none' from state of schedule ${JSON.stringify(s?.schedule)}`,
        );
      }
    },
  };
}
