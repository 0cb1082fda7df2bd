import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StepcoderError } from '@stepcoder/core';
import { createGeneratorWorker, type GeneratorWorker, type Policy } from '@stepcoder/model';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createTrainer,
  type IterationResult,
  type PolicyGenerator,
  resumeTrainer,
  type TrainerConfig,
} from '../src/index.js';
import {
  countingCurriculum,
  letterExecutor,
  microPolicy,
  prefixMask,
  problems,
  simpleReward,
} from './helpers.js';

/*
 * The trainer with a real generator worker thread (its own wasm backend, weights pushed after
 * every update) against the same trainer generating in-process. Worker generation is
 * bit-identical to in-process generation, so every non-timing metric must match exactly.
 */

let generator: GeneratorWorker;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ppo-generator-'));
  const seedPolicy = await microPolicy(42);
  // One worker for the whole file: every trainer pushes its policy's weights before generating.
  generator = await createGeneratorWorker.fromPolicy(seedPolicy);
  seedPolicy.dispose();
});

afterAll(async () => {
  await generator?.dispose();
  await rm(dir, { recursive: true, force: true });
});

function config(overrides: Partial<TrainerConfig> = {}): Omit<TrainerConfig, 'policy'> {
  return {
    seed: 5,
    problems: problems(6),
    executor: letterExecutor({ delayMs: 2 }),
    reward: simpleReward,
    mask: prefixMask(4),
    curriculum: countingCurriculum(9),
    batchSize: 3,
    samplesPerPrompt: 2,
    generation: { maxNewTokens: 8, temperature: 1 },
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
    ...overrides,
  };
}

/** Every metric except timings, which differ from run to run. */
function learning(results: IterationResult[]): Array<Record<string, number>> {
  return results.map((r) =>
    Object.fromEntries(Object.entries(r.metrics).filter(([name]) => !name.endsWith('_ms'))),
  );
}

async function weights(policy: Policy): Promise<Float32Array[]> {
  return [...(await policy.readWeights()).values()].map((w) => w.data);
}

async function train(
  steps: number,
  overrides: Partial<TrainerConfig>,
): Promise<{ results: IterationResult[]; weights: Float32Array[] }> {
  const policy = await microPolicy(3);
  const trainer = await createTrainer({ ...config(overrides), policy });
  const results = await trainer.train(steps);
  await trainer.dispose();
  const w = await weights(policy);
  policy.dispose();
  return { results, weights: w };
}

describe('trainer with a generator worker', () => {
  it('overlapped with the update: reproducible, and identical to in-process overlap', async () => {
    const a = await train(3, { generator, overlap: true });
    const b = await train(3, { generator, overlap: true });
    expect(learning(a.results)).toEqual(learning(b.results));
    expect(a.weights).toEqual(b.weights);
    // Batch i+1 is drawn with the weights before update i, exactly as in-process overlap does.
    const inProcess = await train(3, { overlap: true });
    expect(learning(a.results)).toEqual(learning(inProcess.results));
    expect(a.weights).toEqual(inProcess.weights);
    // one update stale from the second iteration on: the ratio starts away from 1
    expect(a.results[0]!.metrics.first_approx_kl).toBeLessThan(1e-8);
    expect(a.results[1]!.metrics.first_approx_kl).toBeGreaterThan(1e-6);
    for (const r of a.results) {
      for (const name of ['generate_ms', 'generate_wait_ms', 'weight_sync_ms', 'execute_ms', 'update_ms']) {
        expect(r.metrics[name], name).toBeGreaterThanOrEqual(0);
      }
      expect(r.metrics.generate_wait_ms).toBeLessThanOrEqual(r.metrics.wall_ms!);
    }
  });

  it('call order, not reply timing, decides the weights a batch is drawn with', async () => {
    // The same worker, with its acknowledgement of each weight push held back on this side for
    // longer than an update takes (as a busy event loop would delay it): requests must be
    // ordered by when they are made, never by waiting for earlier replies.
    const late = <T>(p: Promise<T>) => p.then((v) => new Promise<T>((r) => setTimeout(() => r(v), 400)));
    const slow: PolicyGenerator = {
      generate: (prompts, options) => generator.generate(prompts, options),
      generateTimed: (prompts, options) => generator.generateTimed(prompts, options),
      setWeights: (weights) => late(generator.setWeights(weights)),
    };
    const viaSlow = await train(3, { generator: slow, overlap: true });
    const inProcess = await train(3, { overlap: true });
    expect(learning(viaSlow.results)).toEqual(learning(inProcess.results));
    expect(viaSlow.weights).toEqual(inProcess.weights);
  });

  it('without overlap: on-policy, the same results as generating in-process', async () => {
    const viaWorker = await train(3, { generator, overlap: false });
    const inProcess = await train(3, { overlap: false });
    expect(learning(viaWorker.results)).toEqual(learning(inProcess.results));
    expect(viaWorker.weights).toEqual(inProcess.weights);
    for (const r of viaWorker.results) expect(r.metrics.first_approx_kl).toBeLessThan(1e-8);
  });

  it('resume equals continue with a generator and overlap; the trainer leaves the generator alive', async () => {
    const straight = await train(4, { generator, overlap: true });
    const b = await microPolicy(3);
    const first = await createTrainer({ ...config({ generator, overlap: true }), policy: b });
    await first.train(2);
    await first.checkpoint(join(dir, 'ckpt')); // waits for the batch generating on the worker
    await first.dispose();
    b.dispose();
    expect(generator.alive).toBe(true); // not the trainer's to dispose
    const c = await microPolicy(99);
    const resumed = await resumeTrainer(join(dir, 'ckpt'), {
      ...config({ generator, overlap: true }),
      policy: c,
    });
    const rest = await resumed.train(2);
    await resumed.dispose();
    expect(learning(rest)).toEqual(learning(straight.results.slice(2)));
    expect(await weights(c)).toEqual(straight.weights);
    c.dispose();
  });

  it('a generator that is gone stops training with its error instead of skipping every sample', async () => {
    const policy = await microPolicy(3);
    const gone = await createGeneratorWorker.fromPolicy(policy);
    const trainer = await createTrainer({ ...config({ generator: gone, overlap: true }), policy });
    await trainer.iterate();
    await gone.dispose();
    // The next batch may have finished before the dispose; the one after cannot be generated.
    let err: unknown;
    for (let i = 0; i < 2 && err === undefined; i++) {
      err = await trainer.iterate().then(
        () => undefined,
        (e: unknown) => e,
      );
    }
    expect(StepcoderError.is(err, 'WORKER_EXITED') || StepcoderError.is(err, 'NOT_READY'), String(err)).toBe(
      true,
    );
    await trainer.dispose();
    policy.dispose();
  });

  it('refuses a generator without generate/setWeights', async () => {
    const policy = await microPolicy(3);
    const bad = { generate: async () => [] } as unknown as TrainerConfig['generator'];
    await expect(createTrainer({ ...config({ generator: bad }), policy })).rejects.toThrow(
      /`generator` must have generate/,
    );
    policy.dispose();
  });
});
