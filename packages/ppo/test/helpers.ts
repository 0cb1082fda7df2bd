import type {
  Curriculum,
  ExecutionRequest,
  ExecutionResult,
  Executor,
  MaskStrategy,
  Problem,
  RewardFn,
} from '@stepcoder/core';
import { createRng } from '@stepcoder/core';
import {
  createByteTokenizer,
  createPolicy,
  type GPT2Config,
  initBackend,
  type Policy,
} from '@stepcoder/model';
import { createTrainer, type TrainablePolicy, type TrainerConfig } from '../src/index.js';

/** Smaller than GPT2_TINY so that a PPO iteration is quick on the wasm backend (single-threaded: deterministic). */
export const MICRO: GPT2Config = { vocabSize: 258, nPositions: 64, nEmbd: 32, nLayer: 1, nHead: 2 };

let backendReady: Promise<unknown> | undefined;

export async function microPolicy(seed = 1, config: Partial<GPT2Config> = {}): Promise<Policy> {
  backendReady ??= initBackend({ prefer: 'wasm', log: false });
  await backendReady;
  return createPolicy({ config: { ...MICRO, ...config }, tokenizer: createByteTokenizer(), seed });
}

export function problems(count: number): Problem[] {
  return Array.from({ length: count }, (_, i) => ({
    id: `p${i}`,
    prompt: `# task ${i}: print a word\n`,
    language: 'python' as const,
    canonicalSolutions: [`print("w${i}")\n`],
    tests: { kind: 'stdio' as const, cases: [{ input: '', output: `w${i}` }] },
    difficulty: i % 2 === 0 ? 'introductory' : 'interview',
  }));
}

/** A one-test result of `outcome` (coverage: the first line executed of every line). */
export function result(
  outcome: ExecutionResult['outcome'],
  program: string,
  coverage: boolean,
): ExecutionResult {
  const lines = program.split('\n').map((_, i) => i + 1);
  return {
    outcome,
    tests: [{ index: 0, outcome, durationMs: 0 }],
    passed: outcome === 'pass' ? 1 : 0,
    total: 1,
    durationMs: 0,
    stdout: '',
    stderr: '',
    truncated: false,
    ...(coverage ? { coverage: { lines: lines.slice(0, 1), executableLines: lines } } : {}),
  };
}

/**
 * A deterministic executor for trainer tests (the trainer, not the executor, is under test): a
 * program "passes" when the generated part contains a lowercase ASCII letter. Problems listed in
 * `failOn` make it reject, as a crashed worker would.
 */
export function letterExecutor(options: { failOn?: string[]; delayMs?: number } = {}): Executor {
  return {
    specificationVersion: 'v1',
    name: 'letter',
    languages: ['python'],
    async run(request: ExecutionRequest): Promise<ExecutionResult> {
      if (options.delayMs) await new Promise((r) => setTimeout(r, options.delayMs));
      const expected = request.tests.kind === 'stdio' ? request.tests.cases[0]?.output : undefined;
      if (options.failOn?.some((id) => `w${id.slice(1)}` === expected))
        throw new Error(`worker died on ${expected}`);
      const outcome = /[a-z]/.test(request.program) ? 'pass' : 'wrong_answer';
      return result(outcome, request.program, request.coverage ?? false);
    },
    async dispose() {},
  };
}

/** StepCoder's table, reduced: pass 1, anything else −0.3, infra errors are not rewards. */
export const simpleReward: RewardFn = {
  specificationVersion: 'v1',
  name: 'simple',
  score: (r) => (r.outcome === 'infra_error' ? null : r.outcome === 'pass' ? 1 : -0.3),
};

/** Keeps the first `keep` tokens; throws on its `throwOnCall`-th call (1-based). Needs coverage like FGO. */
export function prefixMask(keep: number, throwOnCall?: number): MaskStrategy {
  let calls = 0;
  return {
    specificationVersion: 'v1',
    name: 'prefix',
    needsCoverage: true,
    weights(input) {
      calls++;
      if (calls === throwOnCall) throw new Error('mask failed');
      if (!input.coverage) throw new Error('coverage was not collected');
      return Float32Array.from(input.tokenSpans, (_, i) => (i < keep ? 1 : 0));
    },
  };
}

/**
 * Two stages that advance after `advanceAfter` recorded rollouts: stage 0 gives the first line of
 * the canonical solution, stage 1 nothing. Stateful, so resume must restore it.
 */
export function countingCurriculum(advanceAfter: number): Curriculum & { recorded(): number } {
  let recorded = 0;
  return {
    specificationVersion: 'v1',
    name: 'counting',
    recorded: () => recorded,
    stageOf: () => (recorded >= advanceAfter ? 1 : 0),
    prompt(problem, stage) {
      const solution = problem.canonicalSolutions[0]!;
      const givenPrefix = stage === 0 ? solution.slice(0, 6) : '';
      return {
        prompt: `${problem.prompt}${givenPrefix}`,
        givenPrefix,
        target: solution.slice(givenPrefix.length),
        completionStart: givenPrefix.length,
        stage,
        stageCount: 2,
      };
    },
    record() {
      recorded++;
    },
    state: () => ({ recorded }),
    restore(state) {
      recorded = (state as { recorded: number }).recorded;
    },
  };
}

/** Passes when the program (= the completion; no curriculum) matches `rule`. */
export function ruleExecutor(rule: (program: string) => boolean): Executor {
  return {
    specificationVersion: 'v1',
    name: 'rule',
    languages: ['python'],
    async run(request: ExecutionRequest): Promise<ExecutionResult> {
      return result(rule(request.program) ? 'pass' : 'wrong_answer', request.program, false);
    },
    async dispose() {},
  };
}

/** 1 for a pass, 0 otherwise: the learnability tests' reward. */
export const passIsOne: RewardFn = {
  specificationVersion: 'v1',
  name: 'pass-is-one',
  score: (r) => (r.outcome === 'pass' ? 1 : 0),
};

/**
 * The micro trainer setup of the learning tests: 4 problems, a rule executor, pass = 1, GRPO-sized
 * groups of 4, 6 new tokens, one PPO epoch; `overrides` replace whole top-level keys.
 */
export function microTrainerConfig(overrides: Partial<TrainerConfig> = {}): Omit<TrainerConfig, 'policy'> {
  return {
    seed: 11,
    problems: problems(4),
    executor: ruleExecutor(() => true),
    reward: passIsOne,
    batchSize: 4,
    samplesPerPrompt: 4,
    generation: { maxNewTokens: 6, temperature: 1 },
    ppo: {
      epochs: 1,
      minibatchSize: 16,
      clipRange: 0.2,
      clipRangeValue: 0.2,
      vfCoef: 0.1,
      entCoef: 0,
      maxGradNorm: 1,
    },
    kl: { type: 'fixed', beta: 0.05 },
    lr: 3e-3,
    ...overrides,
  };
}

/**
 * The learnability runs' task: +1 when the completion starts with a lowercase ASCII letter (about
 * 26/256 of a fresh byte-level model's first tokens, so ~0.1 at start), `iterations` of PPO on
 * `policy` (2 new tokens, 2 epochs, lr 1e-2, fixed KL 0.01). Returns each iteration's mean reward;
 * the trainer is disposed, the policy is the caller's.
 */
export async function trainFirstCharacter(
  policy: TrainablePolicy,
  advantage: 'gae' | 'grpo',
  iterations: number,
): Promise<number[]> {
  const trainer = await createTrainer({
    ...microTrainerConfig({
      advantage,
      executor: ruleExecutor((p) => /^[a-z]/.test(p)),
      samplesPerPrompt: advantage === 'grpo' ? 4 : 1,
      batchSize: advantage === 'grpo' ? 4 : 16,
      generation: { maxNewTokens: 2, temperature: 1 },
      ppo: {
        epochs: 2,
        minibatchSize: 16,
        clipRange: 0.2,
        clipRangeValue: 0.2,
        vfCoef: 0.5,
        entCoef: 0,
        maxGradNorm: 1,
      },
      lr: 1e-2,
      kl: { type: 'fixed', beta: 0.01 },
      seed: createRng(5).int(1000),
    }),
    policy,
  });
  try {
    return (await trainer.train(iterations)).map((r) => r.metrics.reward_mean!);
  } finally {
    await trainer.dispose();
  }
}
