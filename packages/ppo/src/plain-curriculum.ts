import type { Curriculum, CurriculumPrompt, Problem } from '@stepcoder/core';

/**
 * The prompt used when no curriculum is given (plain RL, SFT and evaluation defaults): one stage,
 * the model writes everything after the starter code. Prompt = statement, a newline, then the
 * starter code — unless the statement already ends with it (HumanEval, where the prompt is code).
 */
export function plainPrompt(problem: Problem): CurriculumPrompt {
  const givenPrefix = problem.starterCode ?? '';
  const solution = problem.canonicalSolutions[0] ?? '';
  const target = solution.startsWith(givenPrefix) ? solution.slice(givenPrefix.length) : solution;
  const prompt =
    givenPrefix === '' || problem.prompt.endsWith(givenPrefix)
      ? problem.prompt
      : `${problem.prompt}\n${givenPrefix}`;
  return { prompt, givenPrefix, target, completionStart: givenPrefix.length, stage: 0, stageCount: 1 };
}

/** A single-stage curriculum over `plainPrompt`; stateless. */
export function createPlainCurriculum(): Curriculum {
  return {
    specificationVersion: 'v1',
    name: 'plain',
    stageOf: () => 0,
    prompt: (problem) => plainPrompt(problem),
    record() {},
    state: () => null,
    restore() {},
  };
}

/** The prompt of a problem with the whole program to write (the curriculum's last stage). */
export async function finalStagePrompt(curriculum: Curriculum, problem: Problem): Promise<CurriculumPrompt> {
  const first = await curriculum.prompt(problem, 0);
  if (first.stageCount <= 1) return first;
  return curriculum.prompt(problem, first.stageCount - 1);
}
