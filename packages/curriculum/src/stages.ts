import type { Language, Problem } from '@stepcoder/core';
import type { PythonSplitter } from './python-splitter.js';
import { splitProgram } from './split.js';
import type { SplitResult, Stage } from './types.js';

/**
 * Stages of a split program. Stage k (k < points.length) gives everything before the k-th split
 * point counted from the end (stage 0: before the last point, the most code given); the final
 * stage gives only the starter code. `givenPrefix + target === program` for every stage but one:
 *
 * When code precedes the starter (helper functions or imports before the given `def`), the
 * stages run through the points after the starter, then the cut right after the starter (helpers
 * and starter given), then the points inside the helper code; the final stage gives the starter
 * code alone, and its target is the rest of the program followed by the helper code, moved after
 * it (module-level code that a function calls at run time may follow it), so the model still
 * writes the whole program there: `givenPrefix + target` is that reordered program.
 */
export function stagesFromSplit(program: string, split: SplitResult): Stage[] {
  const starterStart = Math.min(split.starterStart ?? 0, program.length);
  const starterEnd = Math.min(split.starterEnd, program.length);
  const stage = (index: number, givenPrefix: string, target: string): Stage => ({
    stage: index,
    givenPrefix,
    target,
    completionStart: givenPrefix.length,
  });
  const cuts = split.points.filter((p) => p >= starterEnd).reverse();
  cuts.push(starterEnd);
  if (starterStart === 0) return cuts.map((cut, i) => stage(i, program.slice(0, cut), program.slice(cut)));
  cuts.push(...split.points.filter((p) => p < starterStart).reverse());
  const stages = cuts.map((cut, i) => stage(i, program.slice(0, cut), program.slice(cut)));
  const rest = program.slice(starterEnd);
  const helpers = program.slice(0, starterStart);
  const separator = rest === '' || rest.endsWith('\n') ? '' : '\n';
  stages.push(stage(stages.length, program.slice(starterStart, starterEnd), rest + separator + helpers));
  return stages;
}

/** Everything known about a problem's curriculum: the program, its split and its stages. */
export interface ProblemStages {
  problemId: string;
  language: Language;
  /** The canonical program that is cut (first canonical solution). */
  program: string;
  split: SplitResult;
  stages: Stage[];
  stageCount: number;
}

export interface StagesOptions {
  splitter?: PythonSplitter;
}

/** The program a problem is staged on: its first canonical solution. */
export function programOf(problem: Problem): string | undefined {
  return problem.canonicalSolutions[0];
}

/** Split a problem's first canonical solution and build its stages. Never throws for bad code. */
export async function problemStages(problem: Problem, options: StagesOptions = {}): Promise<ProblemStages> {
  const program = programOf(problem);
  if (program === undefined) {
    // Nothing to cut: one stage that gives the starter code and asks for the rest.
    const starter = problem.starterCode ?? '';
    const split: SplitResult = {
      points: [],
      method: 'lines-fallback',
      reason: 'problem has no canonical solution',
      starterEnd: starter.length,
    };
    return build(problem, starter, split);
  }
  const split = await splitProgram(program, problem.language, {
    starterCode: problem.starterCode,
    splitter: options.splitter,
  });
  return build(problem, program, split);
}

function build(problem: Problem, program: string, split: SplitResult): ProblemStages {
  const stages = stagesFromSplit(program, split);
  return {
    problemId: problem.id,
    language: problem.language,
    program,
    split,
    stages,
    stageCount: stages.length,
  };
}

/** Each stage of a problem: `{ stage, givenPrefix, target, completionStart }`, easiest first. */
export async function stagesOf(problem: Problem, options: StagesOptions = {}): Promise<Stage[]> {
  return (await problemStages(problem, options)).stages;
}

/** Same as `problemStages`: a problem's split and stages, for `stepcoder curriculum show`. */
export const previewStages: (problem: Problem, options?: StagesOptions) => Promise<ProblemStages> =
  problemStages;

/**
 * Split results per problem id, computed once. A problem whose program text changed under the same
 * id is split again.
 */
export class StageCache {
  private readonly entries = new Map<
    string,
    { program: string | undefined; stages: Promise<ProblemStages> }
  >();

  constructor(private readonly options: StagesOptions = {}) {}

  get(problem: Problem): Promise<ProblemStages> {
    const program = programOf(problem);
    const hit = this.entries.get(problem.id);
    if (hit && hit.program === program) return hit.stages;
    const stages = problemStages(problem, this.options);
    this.entries.set(problem.id, { program, stages });
    return stages;
  }

  /** Split many problems at once (coalesced into one Python request) and cache them. */
  async prefetch(problems: readonly Problem[]): Promise<void> {
    await Promise.all(problems.map((p) => this.get(p)));
  }

  get size(): number {
    return this.entries.size;
  }
}
