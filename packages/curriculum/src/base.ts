export type { StagePrompter } from './curriculum-base.js';
export { clampStage, createStagePrompter } from './curriculum-base.js';
export type { CommonCurriculumOptions } from './options.js';
export { commonCurriculumShape, splitterFor } from './options.js';
export type { PythonPointsResult, PythonSplitterOptions } from './python-splitter.js';
export {
  createPythonSplitter,
  getDefaultPythonSplitter,
  PythonSplitter,
  SPLIT_SCRIPT,
} from './python-splitter.js';
export type {
  AdaptiveCurriculum,
  AdaptiveCurriculumOptions,
  AdaptiveCurriculumState,
  AdaptiveProblemState,
} from './schedule-adaptive.js';
export { adaptiveCurriculumSchema, createAdaptiveCurriculum } from './schedule-adaptive.js';
export type { NoneCurriculum, NoneCurriculumOptions } from './schedule-none.js';
export { createNoneCurriculum, noneCurriculumSchema } from './schedule-none.js';
export type { StepsCurriculum, StepsCurriculumOptions } from './schedule-steps.js';
export { createStepsCurriculum, stepsCurriculumSchema } from './schedule-steps.js';
export { splitProgram, splitPrograms } from './split.js';
export { fallbackPoints } from './split-fallback.js';
export type { JsPointsResult } from './split-js.js';
export { splitJavaScript } from './split-js.js';
export type { ProblemStages, StagesOptions } from './stages.js';
export { previewStages, problemStages, programOf, StageCache, stagesFromSplit, stagesOf } from './stages.js';
export type { StarterLocation } from './starter.js';
export { locateStarter } from './starter.js';
export type { AssembleOptions, PromptTemplate, TemplateContext } from './template.js';
export {
  assemblePrompt,
  commentPrefixOf,
  DEFAULT_TEMPLATE,
  defaultHeader,
  renderHeader,
  TEMPLATE_FIELDS,
} from './template.js';
export type { SplitInput, SplitMethod, SplitOptions, SplitResult, Stage } from './types.js';
