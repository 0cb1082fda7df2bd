import type { Coverage, ExecutionResult, Outcome } from './execution.js';
import type { Language, Problem } from './problem.js';

/* ----------------------------------------------------------------------------------------------
 * Reward
 * -------------------------------------------------------------------------------------------- */

export interface RewardFn {
  readonly specificationVersion: 'v1';
  readonly name: string;
  /** Scalar reward of one execution, or `null` when it must not be used (infra_error). */
  score(result: ExecutionResult): number | null;
}

/* ----------------------------------------------------------------------------------------------
 * Masking (FGO)
 * -------------------------------------------------------------------------------------------- */

/** `[start, end)` character offsets of one generated token, relative to the completion text. */
export type TokenSpan = readonly [start: number, end: number];

export interface MaskInput {
  /** The full program that ran: given prefix + completion. Coverage is in its coordinates. */
  program: string;
  /** Character offset in `program` where the generated completion starts. */
  completionStart: number;
  /** Offsets of each generated token within `program.slice(completionStart)`. */
  tokenSpans: readonly TokenSpan[];
  language: Language;
  outcome: Outcome;
  coverage?: Coverage;
}

export interface MaskStrategy {
  readonly specificationVersion: 'v1';
  readonly name: string;
  /** Whether this strategy needs coverage (executors collect it only on request). */
  readonly needsCoverage: boolean;
  /** One loss weight per generated token, in [0, 1]. */
  weights(input: MaskInput): Float32Array;
}

/* ----------------------------------------------------------------------------------------------
 * Curriculum (CCCS)
 * -------------------------------------------------------------------------------------------- */

export interface CurriculumPrompt {
  /** Text given to the model: statement + starter code + given prefix, in the template. */
  prompt: string;
  /** Part of the canonical program the model is given (starter code included). */
  givenPrefix: string;
  /** The canonical remainder the model is asked to write (for SFT and previews). */
  target: string;
  /** Character offset in the full program (`givenPrefix + completion`) where generation begins. */
  completionStart: number;
  stage: number;
  stageCount: number;
}

export interface CurriculumFeedback {
  problemId: string;
  stage: number;
  passed: boolean;
  reward: number;
  step: number;
}

export interface Curriculum {
  readonly specificationVersion: 'v1';
  readonly name: string;
  /** Current stage of a problem at a training step; 0 is the easiest (most code given). */
  stageOf(problem: Problem, step: number): Promise<number> | number;
  /** Build the prompt of a problem at a stage. */
  prompt(problem: Problem, stage: number): Promise<CurriculumPrompt> | CurriculumPrompt;
  /** Outcome of one rollout, for adaptive schedules. */
  record(feedback: CurriculumFeedback): void;
  /** JSON-serialisable schedule state for checkpoints. */
  state(): unknown;
  restore(state: unknown): void;
}

/* ----------------------------------------------------------------------------------------------
 * Datasets
 * -------------------------------------------------------------------------------------------- */

export interface RowIssue {
  file: string;
  /** 1-based row, or the folder name for folder-per-problem layouts. */
  row: number | string;
  field?: string;
  message: string;
}

export interface LoadSummary {
  dataset: string;
  files: string[];
  loaded: number;
  skipped: number;
  issues: RowIssue[];
}

/** An async stream of problems whose summary is complete once iteration ends. */
export interface ProblemStream extends AsyncIterable<Problem> {
  summary(): LoadSummary;
}

export interface DatasetLoader {
  readonly specificationVersion: 'v1';
  readonly name: string;
  load(path: string): ProblemStream;
}

/* ----------------------------------------------------------------------------------------------
 * Compute backends
 * -------------------------------------------------------------------------------------------- */

export interface Backend {
  readonly specificationVersion: 'v1';
  /** tfjs backend name: `tensorflow`, `wasm`, `cpu`… */
  readonly name: string;
  readonly threads?: number;
  readonly simd?: boolean;
  /** One line for the start-up report, e.g. `wasm (SIMD, 2 threads)`. */
  describe(): string;
}

/* ----------------------------------------------------------------------------------------------
 * Advantage estimators (PPO's GAE, critic-free group-relative…)
 * -------------------------------------------------------------------------------------------- */

export interface AdvantageInput {
  /** Per sequence, the reward of each generated token (terminal reward + KL penalty). */
  rewards: Float32Array[];
  /** Per sequence, value-head estimates per token (critic-based estimators). */
  values?: Float32Array[];
  /** Per sequence, the prompt/group it was sampled from (group-relative estimators). */
  groups?: number[];
  /** Per sequence, the scalar outcome reward (group-relative estimators). */
  scores?: number[];
}

export interface AdvantageOutput {
  advantages: Float32Array[];
  /** Targets for the value loss; absent for critic-free estimators. */
  returns?: Float32Array[];
}

export interface AdvantageEstimator {
  readonly specificationVersion: 'v1';
  readonly name: string;
  readonly needsValues: boolean;
  /**
   * Fewest samples per prompt the estimator can compare (group-relative ones: 2). The trainer
   * refuses a `samplesPerPrompt` below it instead of training on all-zero advantages.
   */
  readonly minGroupSize?: number;
  compute(input: AdvantageInput): AdvantageOutput;
}
