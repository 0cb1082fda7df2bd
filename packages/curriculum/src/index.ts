import { registry } from '@stepcoder/core';
import {
  type AdaptiveCurriculumOptions,
  adaptiveCurriculumSchema,
  createAdaptiveCurriculum,
} from './schedule-adaptive.js';
import { createNoneCurriculum, type NoneCurriculumOptions, noneCurriculumSchema } from './schedule-none.js';
import {
  createStepsCurriculum,
  type StepsCurriculumOptions,
  stepsCurriculumSchema,
} from './schedule-steps.js';

export * from './base.js';

declare module '@stepcoder/core' {
  interface PluginOptions {
    'curriculum:steps': StepsCurriculumOptions;
    'curriculum:adaptive': AdaptiveCurriculumOptions;
    'curriculum:none': NoneCurriculumOptions;
  }
}

// `override` keeps a second copy of this package (or a re-import in tests) from failing.
registry.register('curriculum', 'steps', createStepsCurriculum, {
  schema: stepsCurriculumSchema,
  override: true,
  description: 'CCCS as published: every problem advances one stage every `stepsPerStage` updates',
});
registry.register('curriculum', 'adaptive', createAdaptiveCurriculum, {
  schema: adaptiveCurriculumSchema,
  override: true,
  description:
    "CCCS per problem: advance when a stage's recent pass rate crosses a threshold, go back when it collapses",
});
registry.register('curriculum', 'none', createNoneCurriculum, {
  schema: noneCurriculumSchema,
  override: true,
  description: 'No curriculum (ablation baseline): the model always writes the whole program',
});
