import {
  createEventBus,
  createRng,
  type ExecutionRequest,
  type ExecutionResult,
  type Executor,
  type RewardFn,
  StepcoderError,
} from '@stepcoder/core';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import {
  buildMinibatch,
  createTrainer,
  type Rollout,
  scoreSequences,
  type TrainerConfig,
} from '../src/index.js';
import { tokenLogprobs } from '../src/losses.js';
import { microPolicy, problems, result } from './helpers.js';

/*
 * Behaviour tests of the trainer's learning mechanics (issue 12): the temperature of the ratio,
 * the bounded GRPO KL, the behaviour policy under overlap, refusals of silent failures, and that
 * a learnable reward is learnt. The executors below are deterministic rules over the generated
 * text: the trainer, not execution, is under test.
 */

/** Passes when the program (= the completion; no curriculum) matches `rule`. */
function ruleExecutor(rule: (program: string) => boolean): Executor {
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

const passIsOne: RewardFn = {
  specificationVersion: 'v1',
  name: 'pass-is-one',
  score: (r) => (r.outcome === 'pass' ? 1 : 0),
};

function config(overrides: Partial<TrainerConfig>): Omit<TrainerConfig, 'policy'> {
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

describe('temperature: log-probs, ratio and KL are formed at the sampling temperature', () => {
  it('at T = 0.5 the ratio before any update is 1 within 1e-4 and the KL to the reference is ≥ −1e-6', async () => {
    const policy = await microPolicy(21);
    const reference = await policy.referenceCopy();
    const T = 0.5;
    const prompts = ['# task 1\n', '# task 22: print\n', 'x = ', 'def f(a):\n'];
    const gens = await policy.generate(prompts, { maxNewTokens: 10, temperature: T, seed: 5 });
    // Generation-time log-probs (the behaviour policy) agree with re-scoring at T ...
    const scored = await scoreSequences(policy, gens, 8, T);
    const ref = await scoreSequences(reference, gens, 8, T);
    const drift = gens.flatMap((g, i) => g.logprobs.map((lp, t) => Math.abs(lp - scored[i]!.logprobs[t]!)));
    expect(Math.max(...drift)).toBeLessThan(1e-4);
    // ... and the loss's own log π_θ (policy.apply, logits / T) gives ratio 1 on every token.
    const rollouts: Rollout[] = gens.map((g, i) => ({
      problemId: `p${i}`,
      group: i,
      stage: 0,
      promptIds: g.promptIds,
      tokenIds: g.tokenIds,
      score: 0,
      passed: false,
      weights: new Float32Array(g.tokenIds.length).fill(1),
      oldLogprobs: Float32Array.from(g.logprobs),
      refLogprobs: ref[i]!.logprobs,
      values: scored[i]!.values,
      entropies: scored[i]!.entropies,
      rewards: new Float32Array(g.tokenIds.length),
      advantages: new Float32Array(g.tokenIds.length),
      returns: new Float32Array(g.tokenIds.length),
    }));
    const mb = buildMinibatch(rollouts, policy.tokenizer.padTokenId, policy.config.nPositions);
    const ratioDeviation = (temperature: number) =>
      tf.tidy(() => {
        const { logits } = policy.apply(mb.ids, mb.attention);
        const [b, t, v] = logits.shape;
        const cut = tf.div(tf.slice(logits, [0, 0, 0], [b, t - 1, v]), temperature);
        const lp = tokenLogprobs(cut, mb.targets);
        return tf.max(tf.mul(tf.abs(tf.sub(tf.exp(tf.sub(lp, mb.oldLogprobs)), 1)), mb.valid)).dataSync()[0]!;
      });
    expect(ratioDeviation(T)).toBeLessThan(1e-4);
    // Scoring at temperature 1 (the defect this guards against) is visibly off-policy.
    expect(ratioDeviation(1)).toBeGreaterThan(1e-2);
    let kl = 0;
    let tokens = 0;
    rollouts.forEach((r) => {
      r.oldLogprobs.forEach((lp, t) => {
        kl += lp - r.refLogprobs[t]!;
        tokens++;
      });
    });
    expect(kl / tokens).toBeGreaterThanOrEqual(-1e-6);
    tf.dispose(Object.values(mb));
    reference.dispose();
    policy.dispose();
  });

  it('the trainer starts on-policy at T = 0.5: first-minibatch approx KL ≈ 0 without overlap', async () => {
    const policy = await microPolicy(22);
    const trainer = await createTrainer({
      ...config({ generation: { maxNewTokens: 6, temperature: 0.5 }, advantage: 'gae', samplesPerPrompt: 1 }),
      policy,
    });
    const [first, second] = await trainer.train(2);
    // ratio within 1e-4 on every token ⇒ ½·mean(log ratio²) < 5e-9
    expect(first!.metrics.first_approx_kl).toBeLessThan(5e-9);
    expect(second!.metrics.first_approx_kl).toBeLessThan(5e-9);
    expect(first!.metrics.kl).toBeGreaterThanOrEqual(-1e-6);
    await trainer.dispose();
    policy.dispose();
  });
});

describe('overlap: the ratio is formed against the behaviour policy', () => {
  it('a batch generated by the previous weights starts off-policy; without overlap it starts on-policy', async () => {
    const run = async (overlap: boolean) => {
      const policy = await microPolicy(23);
      const trainer = await createTrainer({
        ...config({
          overlap,
          advantage: 'gae',
          samplesPerPrompt: 1,
          lr: 1e-2,
          executor: ruleExecutor((p) => /^[a-m]/.test(p)),
        }),
        policy,
      });
      const results = await trainer.train(3);
      await trainer.dispose();
      policy.dispose();
      return results.map((r) => r.metrics.first_approx_kl!);
    };
    const sequential = await run(false);
    const overlapped = await run(true);
    expect(Math.max(...sequential)).toBeLessThan(1e-8);
    // Iteration 1's batch had no predecessor update; 2 and 3 were drawn one update earlier.
    expect(overlapped[0]).toBeLessThan(1e-8);
    expect(overlapped[1]).toBeGreaterThan(1e-6);
    expect(overlapped[2]).toBeGreaterThan(1e-6);
  });
});

describe('GRPO KL term', () => {
  it('with a constant task reward the KL to the reference stays bounded over 20 iterations', async () => {
    const policy = await microPolicy(24);
    const kls: number[] = [];
    const trainer = await createTrainer({
      ...config({
        advantage: 'grpo',
        batchSize: 2,
        samplesPerPrompt: 4,
        generation: { maxNewTokens: 12, temperature: 1 },
        // An entropy bonus pushes away from the reference; only the KL term holds the policy back.
        ppo: {
          epochs: 2,
          minibatchSize: 8,
          clipRange: 0.2,
          clipRangeValue: null,
          vfCoef: 0,
          entCoef: 0.05,
          maxGradNorm: 1,
        },
        kl: { type: 'fixed', beta: 0.1 },
        lr: 1e-2,
      }),
      policy,
    });
    expect(trainer.klPenalty).toBe('loss');
    for (const r of await trainer.train(20)) {
      const perToken = r.metrics.kl! / (r.metrics.tokens! / r.samples);
      kls.push(perToken);
      expect(Number.isFinite(r.metrics.kl_loss)).toBe(true);
    }
    expect(Math.max(...kls)).toBeLessThan(0.5);
    expect(Math.min(...kls)).toBeGreaterThan(-0.5);
    await trainer.dispose();
    policy.dispose();
  });
});

describe('silent failures become errors, skips and events', () => {
  it('GRPO with samplesPerPrompt 1 is a config error naming the key', async () => {
    const policy = await microPolicy(25);
    const err = await createTrainer({ ...config({ advantage: 'grpo', samplesPerPrompt: 1 }), policy }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(StepcoderError);
    expect((err as StepcoderError).code).toBe('INVALID_CONFIG');
    expect((err as StepcoderError).message).toMatch(/samplesPerPrompt/);
    policy.dispose();
  });

  it('a prompt longer than nPositions − maxNewTokens is skipped with its reason and counted', async () => {
    const policy = await microPolicy(26);
    const events = createEventBus();
    const skipped: string[] = [];
    events.on('sample:skipped', (s) => skipped.push(`${s.problemId}:${s.reason}`));
    const long = { ...problems(1)[0]!, id: 'long', prompt: `# ${'a very long statement '.repeat(4)}\n` };
    const trainer = await createTrainer({
      ...config({ problems: [...problems(2), long], batchSize: 3, samplesPerPrompt: 2, advantage: 'grpo' }),
      policy,
      events,
    });
    const [r] = await trainer.train(1);
    expect(skipped).toEqual(['long:prompt_too_long', 'long:prompt_too_long']);
    expect(r!.metrics.skipped_prompt_too_long).toBe(2);
    expect(r!.samples).toBe(4);
    await trainer.dispose();
    policy.dispose();
  });

  it('non-finite gradients skip the step (weights unchanged) and emit an event', async () => {
    const real = await microPolicy(27);
    // The real model with its logits poisoned on the way out of `apply`, as an overflow would.
    const policy = new Proxy(real, {
      get(target, prop) {
        if (prop === 'apply') {
          return (ids: tf.Tensor2D, mask?: tf.Tensor2D) => {
            const out = target.apply(ids, mask);
            return { logits: tf.mul(out.logits, Number.NaN) as tf.Tensor3D, values: out.values };
          };
        }
        const value = Reflect.get(target, prop, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const events = createEventBus();
    const skips: string[] = [];
    events.on('update:skipped', (e) => skips.push(e.reason));
    const before = [...real.getWeights()].map(([n, t]) => [n, t.dataSync().slice(), t] as const);
    const trainer = await createTrainer({
      ...config({ advantage: 'gae', samplesPerPrompt: 1 }),
      policy,
      events,
    });
    const [r] = await trainer.train(1);
    expect(skips).toEqual(['nonfinite_gradients']);
    expect(r!.metrics.nonfinite_steps).toBe(1);
    for (const [name, data, tensor] of before) {
      expect(Array.from(real.getWeights().get(name)!.dataSync()), name).toEqual(Array.from(data));
      tensor.dispose();
    }
    await trainer.dispose();
    real.dispose();
  });
});

describe('learnability: a learnable reward is learnt within a fixed, seeded budget', () => {
  // +1 when the completion starts with a lowercase ASCII letter: about 26/256 of a fresh byte-level
  // model's first tokens, so the mean reward starts near 0.1.
  for (const advantage of ['gae', 'grpo'] as const) {
    it(`${advantage}: mean rollout reward rises from ~0.1 to ≥ 0.6`, async () => {
      const policy = await microPolicy(31);
      const trainer = await createTrainer({
        ...config({
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
      const rewards = (await trainer.train(25)).map((r) => r.metrics.reward_mean!);
      const start = (rewards[0]! + rewards[1]!) / 2;
      const end = (rewards.at(-1)! + rewards.at(-2)! + rewards.at(-3)!) / 3;
      expect(start).toBeLessThan(0.35);
      expect(end).toBeGreaterThanOrEqual(0.6);
      await trainer.dispose();
      policy.dispose();
    });
  }
});
