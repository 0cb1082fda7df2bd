import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEventBus, createRegistry, type MetricEvent } from '@stepcoder/core';
import type * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTrainer, resumeTrainer, type TrainerConfig } from '../src/index.js';
import {
  countingCurriculum,
  letterExecutor,
  microPolicy,
  prefixMask,
  problems,
  simpleReward,
} from './helpers.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ppo-trainer-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function baseConfig(overrides: Partial<TrainerConfig> = {}): Omit<TrainerConfig, 'policy'> {
  return {
    seed: 7,
    problems: problems(6),
    executor: letterExecutor(),
    reward: simpleReward,
    batchSize: 3,
    samplesPerPrompt: 2,
    generation: { maxNewTokens: 6, temperature: 1 },
    ppo: {
      epochs: 2,
      minibatchSize: 3,
      clipRange: 0.2,
      clipRangeValue: 0.2,
      vfCoef: 0.5,
      entCoef: 0.01,
      maxGradNorm: 1,
    },
    kl: { type: 'adaptive', beta: 0.1, target: 0.5, horizon: 50 },
    lr: 3e-3,
    lrSchedule: { type: 'cosine', warmupSteps: 1, totalSteps: 6, minRatio: 0.1 },
    ...overrides,
  };
}

async function weightsOf(policy: {
  getWeights(): Map<string, tf.Tensor>;
}): Promise<Map<string, Float32Array>> {
  const out = new Map<string, Float32Array>();
  for (const [name, t] of policy.getWeights()) {
    out.set(name, (await t.data()) as Float32Array);
    t.dispose();
  }
  return out;
}

function maxDiff(a: Map<string, Float32Array>, b: Map<string, Float32Array>): number {
  let m = 0;
  for (const [name, x] of a) {
    const y = b.get(name)!;
    for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i]! - y[i]!));
  }
  return m;
}

describe('trainer', () => {
  it('runs PPO iterations with CCCS-style prompts and FGO-style masks, emitting metrics', async () => {
    const policy = await microPolicy(1);
    const before = await weightsOf(policy);
    const events = createEventBus();
    const metrics: MetricEvent[] = [];
    events.on('metric', (m) => metrics.push(m));
    const curriculum = countingCurriculum(6);
    const trainer = await createTrainer({
      // Sequential, so the second batch is planned after the first one's feedback (with overlap
      // it is planned one step earlier; see README).
      ...baseConfig({
        mask: prefixMask(2),
        curriculum,
        overlap: false,
        checkpoint: { dir: join(dir, 'every'), every: 2 },
      }),
      policy,
      events,
    });
    const results = await trainer.train(2);
    expect(results.map((r) => r.step)).toEqual([1, 2]);
    const m = results[0]!.metrics;
    for (const name of [
      'reward_mean',
      'pass_rate',
      'stage_mean',
      'kl',
      'kl_beta',
      'policy_loss',
      'value_loss',
      'entropy',
      'masked_fraction',
      'clip_fraction',
      'lr',
      'generate_ms',
      'execute_ms',
      'update_ms',
    ]) {
      expect(Number.isFinite(m[name]), name).toBe(true);
    }
    expect(results[0]!.samples).toBe(6);
    // a 2-token prefix mask over 6-token completions masks about two thirds of the tokens
    expect(m.masked_fraction).toBeGreaterThan(0.3);
    expect(m.stage_mean).toBe(0);
    expect(results[1]!.metrics.stage_mean).toBe(1);
    expect(curriculum.recorded()).toBe(12);
    expect(metrics.filter((e) => e.step === 1).map((e) => e.name)).toEqual(Object.keys(m));
    expect(maxDiff(before, await weightsOf(policy))).toBeGreaterThan(0);
    expect((await readdir(join(dir, 'every'))).sort()).toEqual(['step-000002']);
    expect((await readdir(join(dir, 'every', 'step-000002'))).sort()).toEqual([
      'optimizer.tensors',
      'policy',
      'policy.tensors',
      'reference.tensors',
      'trainer-state.json',
    ]);
    await trainer.dispose();
    policy.dispose();
  });

  it('resume equals continue: 2N steps == N steps + checkpoint + resume + N steps (1e-6)', async () => {
    const N = 2;
    const config = () =>
      baseConfig({ mask: prefixMask(4), curriculum: countingCurriculum(9), overlap: true });
    const a = await microPolicy(3);
    const straight = await createTrainer({ ...config(), policy: a });
    const straightResults = await straight.train(2 * N);
    const expected = await weightsOf(a);
    await straight.dispose();
    a.dispose();

    const b = await microPolicy(3);
    const first = await createTrainer({ ...config(), policy: b });
    await first.train(N);
    const ckpt = join(dir, 'resume');
    await first.checkpoint(ckpt);
    await first.dispose();
    b.dispose();

    const c = await microPolicy(99); // different init: everything must come from the checkpoint
    const resumed = await resumeTrainer(ckpt, { ...config(), policy: c });
    expect(resumed.step).toBe(N);
    const resumedResults = await resumed.train(N);
    expect(resumedResults.map((r) => r.step)).toEqual([3, 4]);
    expect(resumedResults.map((r) => r.metrics.reward_mean)).toEqual(
      straightResults.slice(N).map((r) => r.metrics.reward_mean),
    );
    expect(resumed.klBeta).toBeCloseTo(straight.klBeta, 12);
    expect(maxDiff(expected, await weightsOf(c))).toBeLessThan(1e-6);
    await resumed.dispose();
    c.dispose();
  });

  it('skips a failing sample (generation fails, executor rejects, mask throws) and keeps training', async () => {
    const real = await microPolicy(5);
    // The policy is real; only its generate refuses one prompt, as a tokenizer error would.
    const policy = new Proxy(real, {
      get(target, prop) {
        if (prop === 'generate') {
          return async (prompts: string[], options: Parameters<typeof real.generate>[1]) => {
            if (prompts.some((p) => p.includes('task 3:'))) throw new Error('cannot encode prompt');
            return target.generate(prompts, options);
          };
        }
        const value = Reflect.get(target, prop, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const events = createEventBus();
    const skipped: Array<{ reason: string; problemId?: string }> = [];
    events.on('sample:skipped', (s) => skipped.push(s));
    const trainer = await createTrainer({
      ...baseConfig({
        problems: problems(4),
        batchSize: 4,
        executor: letterExecutor({ failOn: ['p1'] }),
        mask: prefixMask(3, 1),
        samplesPerPrompt: 1,
      }),
      policy,
      events,
    });
    const [r] = await trainer.train(1);
    expect(skipped.map((s) => s.reason).sort()).toEqual([
      'execution_failed',
      'generation_failed',
      'mask_failed',
    ]);
    expect(skipped.find((s) => s.reason === 'execution_failed')!.problemId).toBe('p1');
    expect(skipped.find((s) => s.reason === 'generation_failed')!.problemId).toBe('p3');
    expect(r!.skipped).toBe(3);
    expect(r!.samples).toBe(1);
    expect(Number.isFinite(r!.metrics.policy_loss)).toBe(true);
    await trainer.dispose();
    real.dispose();
  });

  it('creates plugins by name through a registry and validates its config with paths', async () => {
    const policy = await microPolicy(2);
    const reg = createRegistry();
    reg.register('executor', 'letter', () => letterExecutor());
    reg.register('reward', 'simple', () => simpleReward);
    const { createGrpoEstimator } = await import('../src/index.js');
    reg.register('advantage', 'grpo', (o) => createGrpoEstimator(o));
    const trainer = await createTrainer({
      ...baseConfig({
        executor: 'letter',
        reward: { name: 'simple' },
        advantage: { name: 'grpo', options: { eps: 1e-4 } },
        generation: { maxNewTokens: 6, chunkSize: 4 }, // 6 prompts → generate calls of 4 and 2
      }),
      policy,
      registry: reg,
    });
    const [r] = await trainer.train(1);
    expect(r!.metrics.value_loss).toBe(0); // critic-free: no value loss
    expect(r!.samples).toBe(6);
    await trainer.dispose();
    await expect(
      createTrainer({ ...baseConfig({ executor: 'nope' }), policy, registry: reg }),
    ).rejects.toThrow(/No executor named 'nope'.*'letter'/);
    await expect(
      createTrainer({ ...baseConfig({ ppo: { clipRange: -1 } }), policy, registry: reg }),
    ).rejects.toThrow(/ppo\.clipRange/);
    await expect(
      createTrainer({ ...baseConfig({ generation: { maxNewTokens: 64 } }), policy, registry: reg }),
    ).rejects.toThrow(/maxNewTokens \(64\) must be below the model's nPositions \(64\)/);
    policy.dispose();
  });
});
