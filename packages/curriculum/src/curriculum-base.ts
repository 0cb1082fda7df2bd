import type { CurriculumPrompt, Problem } from '@stepcoder/core';
import type { CommonCurriculumOptions } from './options.js';
import { splitterFor } from './options.js';
import { StageCache } from './stages.js';
import { assemblePrompt } from './template.js';

/** What every schedule shares: the per-problem split cache and prompt assembly. */
export interface StagePrompter {
  readonly cache: StageCache;
  /** Stage count of a problem (split on first use, then cached). */
  stageCount(problem: Problem): Promise<number>;
  /** Prompt of a problem at a stage; out-of-range stages are clamped, never thrown. */
  prompt(problem: Problem, stage: number): Promise<CurriculumPrompt>;
}

export function createStagePrompter(options: CommonCurriculumOptions): StagePrompter {
  const cache = new StageCache({ splitter: splitterFor(options) });
  return {
    cache,
    async stageCount(problem) {
      return (await cache.get(problem)).stageCount;
    },
    async prompt(problem, stage) {
      const staged = await cache.get(problem);
      const k = clampStage(stage, staged.stageCount);
      const s = staged.stages[k]!;
      return assemblePrompt(problem, s.givenPrefix, {
        template: options.template,
        stage: k,
        stageCount: staged.stageCount,
        target: s.target,
      });
    },
  };
}

export function clampStage(stage: number, stageCount: number): number {
  if (!Number.isFinite(stage)) return stageCount - 1;
  return Math.min(Math.max(Math.trunc(stage), 0), stageCount - 1);
}
