import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  createRegistry,
  getGlobalRegistry,
  type MaskStrategy,
  type RewardFn,
  registry,
  StepcoderError,
  ValidationError,
} from '../src/index.js';

const constantReward = (value: number): RewardFn => ({
  specificationVersion: 'v1',
  name: 'constant',
  score: () => value,
});

describe('Registry', () => {
  it('registers, creates by name and lists by kind', async () => {
    const r = createRegistry();
    r.register('reward', 'constant', (opts: { value?: number }) => constantReward(opts.value ?? 1));
    expect(r.has('reward', 'constant')).toBe(true);
    expect(r.has('reward', 'other')).toBe(false);
    expect(r.list('reward')).toEqual(['constant']);
    expect(r.list('mask')).toEqual([]);
    const reward = await r.create('reward', 'constant', { value: 0.5 });
    expect(reward.score({} as never)).toBe(0.5);
  });

  it('passes the factory context and supports async factories', async () => {
    const r = createRegistry();
    let seen: unknown;
    r.register('reward', 'ctx', async (_opts, ctx) => {
      seen = { kind: ctx.kind, name: ctx.name, same: ctx.registry === r };
      await new Promise((res) => setTimeout(res, 1));
      return constantReward(2);
    });
    const reward = await r.create('reward', 'ctx');
    expect(reward.score({} as never)).toBe(2);
    expect(seen).toEqual({ kind: 'reward', name: 'ctx', same: true });
  });

  it('orders list by priority, then name', () => {
    const r = createRegistry();
    const f = () => constantReward(0);
    r.register('reward', 'b', f, { priority: 1 });
    r.register('reward', 'a', f, { priority: 1 });
    r.register('reward', 'low', f);
    r.register('reward', 'high', f, { priority: 5 });
    expect(r.list('reward')).toEqual(['high', 'a', 'b', 'low']);
  });

  it('createBest tries candidates by priority and falls through failures', async () => {
    const r = createRegistry();
    r.register(
      'reward',
      'gpu',
      () => {
        throw new Error('no CUDA device');
      },
      { priority: 3 },
    );
    r.register('reward', 'wasm', () => constantReward(2), { priority: 2 });
    r.register('reward', 'cpu', () => constantReward(1), { priority: 1 });
    const best = await r.createBest('reward');
    expect(best.name).toBe('wasm');
    expect(best.plugin.score({} as never)).toBe(2);
    expect(best.skipped).toEqual([{ name: 'gpu', reason: 'no CUDA device' }]);
  });

  it('createBest fails listing every reason when nothing initialises', async () => {
    const r = createRegistry();
    r.register('backend', 'a', () => Promise.reject(new Error('missing binary')));
    const err = await r.createBest('backend').catch((e: unknown) => e);
    expect(StepcoderError.is(err, 'UNKNOWN_PLUGIN')).toBe(true);
    expect((err as Error).message).toContain('a: missing binary');
  });

  it('rejects duplicate names unless override is set', async () => {
    const r = createRegistry();
    r.register('reward', 'dup', () => constantReward(1));
    expect(() => r.register('reward', 'dup', () => constantReward(2))).toThrow(/already registered/);
    try {
      r.register('reward', 'dup', () => constantReward(2));
    } catch (err) {
      expect(StepcoderError.is(err, 'DUPLICATE_PLUGIN')).toBe(true);
    }
    r.register('reward', 'dup', () => constantReward(3), { override: true });
    expect((await r.create('reward', 'dup')).score({} as never)).toBe(3);
  });

  it('the same name may exist under different kinds', () => {
    const r = createRegistry();
    r.register('reward', 'x', () => constantReward(1));
    r.register('mask', 'x', () => ({}) as MaskStrategy);
    expect(r.list('reward')).toEqual(['x']);
    expect(r.list('mask')).toEqual(['x']);
  });

  it('unknown names fail with an error listing the registered alternatives', async () => {
    const r = createRegistry();
    r.register('executor', 'python', () => ({}) as never);
    r.register('executor', 'js', () => ({}) as never);
    const err = await r.create('executor', 'rust').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StepcoderError);
    expect((err as StepcoderError).code).toBe('UNKNOWN_PLUGIN');
    expect((err as Error).message).toBe(
      "No executor named 'rust' is registered. Registered executors: 'js', 'python'. Did you import the package that provides it?",
    );
    expect((err as StepcoderError).details.available).toEqual(['js', 'python']);
  });

  it('unknown kinds are rejected with the list of kinds', () => {
    const r = createRegistry();
    expect(() => r.register('optimizer' as never, 'adam', () => ({}) as never)).toThrow(
      /Unknown plugin kind 'optimizer'. Kinds: executor, mask, curriculum, dataset, reward, backend, advantage/,
    );
  });

  it('unregister removes a plugin', async () => {
    const r = createRegistry();
    r.register('reward', 'gone', () => constantReward(1));
    expect(r.unregister('reward', 'gone')).toBe(true);
    expect(r.unregister('reward', 'gone')).toBe(false);
    await expect(r.create('reward', 'gone')).rejects.toThrow(/\(none\)/);
  });

  it('registries are isolated from each other and from the global one', () => {
    const a = createRegistry();
    const b = createRegistry();
    a.register('reward', 'only-a', () => constantReward(1));
    expect(b.has('reward', 'only-a')).toBe(false);
    expect(registry.has('reward', 'only-a')).toBe(false);
  });

  it('the global registry is shared through globalThis', () => {
    expect(getGlobalRegistry()).toBe(registry);
    const key = Symbol.for('@stepcoder/core/registry');
    expect((globalThis as Record<symbol, unknown>)[key]).toBe(registry);
  });

  it('validates options against the schema and names the failing path', async () => {
    const r = createRegistry();
    const schema = z
      .object({
        limits: z.object({ timeoutMs: z.number().int().positive() }).strict(),
        mode: z.enum(['fast', 'safe']).default('safe'),
      })
      .strict();
    const received: unknown[] = [];
    r.register(
      'reward',
      'strict',
      (opts) => {
        received.push(opts);
        return constantReward(1);
      },
      { schema },
    );
    await r.create('reward', 'strict', { limits: { timeoutMs: 100 } });
    expect(received[0]).toEqual({ limits: { timeoutMs: 100 }, mode: 'safe' });

    const err = await r
      .create('reward', 'strict', { limits: { timeoutMs: 'soon' } })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ValidationError);
    const v = err as ValidationError;
    expect(v.code).toBe('INVALID_OPTIONS');
    expect(v.issues).toHaveLength(1);
    expect(v.issues[0]!.path).toBe('limits.timeoutMs');
    expect(v.message).toContain("Invalid options of reward 'strict'");
    expect(v.message).toMatch(/limits\.timeoutMs: .*number/);

    const err2 = (await r
      .create('reward', 'strict', { mode: 'turbo', extra: 1 })
      .catch((e: unknown) => e)) as ValidationError;
    expect(err2.issues.map((i) => i.path).sort()).toEqual(['', 'limits', 'mode'].sort());
  });

  it('loads a plugin lazily through a loader the first time it is created', async () => {
    const r = createRegistry();
    let loads = 0;
    r.setLoader('reward', '*', async () => {
      loads++;
      r.register('reward', 'lazy', () => constantReward(7));
    });
    const reward = await r.create('reward', 'lazy');
    expect(reward.score({} as never)).toBe(7);
    await r.create('reward', 'lazy');
    expect(loads).toBe(1);
    await expect(r.create('reward', 'still-missing')).rejects.toThrow(/Registered rewards: 'lazy'/);
  });

  it('reports a loader that fails to import, naming the plugin', async () => {
    const r = createRegistry();
    r.setLoader('executor', 'python', () => import('@stepcoder/not-installed-anywhere' as string));
    const err = await r.create('executor', 'python').catch((e: unknown) => e);
    expect(StepcoderError.is(err, 'UNKNOWN_PLUGIN')).toBe(true);
    expect((err as Error).message).toMatch(/^Loading the package that provides executor 'python' failed: /);
  });
});
