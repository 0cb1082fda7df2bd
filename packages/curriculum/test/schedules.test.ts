import { registry, StepcoderError, ValidationError } from '@stepcoder/core';
import { afterAll, describe, expect, it } from 'vitest';
import {
  createAdaptiveCurriculum,
  createNoneCurriculum,
  createPythonSplitter,
  createStepsCurriculum,
} from '../src/index.js';
import { problemOf } from './helpers.js';
import { PY_NESTED, PY_TRY } from './programs-python.js';

const splitter = createPythonSplitter();
afterAll(() => splitter.close());

// PY_NESTED has 5 split points after offset 0 → 6 stages; PY_TRY has 6 → 7 stages.
const nested = problemOf('nested', PY_NESTED);
const tryProblem = problemOf('try', PY_TRY);

function feed(
  c: {
    record: (f: { problemId: string; stage: number; passed: boolean; reward: number; step: number }) => void;
  },
  problemId: string,
  stage: number,
  outcomes: boolean[],
) {
  for (const passed of outcomes) c.record({ problemId, stage, passed, reward: passed ? 1 : -0.3, step: 0 });
}

describe('steps schedule', () => {
  it('advances every N updates and holds at the last stage', async () => {
    const c = createStepsCurriculum({ splitter, stepsPerStage: 10 });
    const stages = await Promise.all([0, 9, 10, 25, 50, 59, 60, 1000].map((step) => c.stageOf(nested, step)));
    expect(stages).toEqual([0, 0, 1, 2, 5, 5, 5, 5]);
  });

  it('stage 0 gives the most code; the last stage only the starter code', async () => {
    const c = createStepsCurriculum({ splitter });
    const first = await c.prompt(nested, 0);
    const last = await c.prompt(nested, 5);
    expect(first.target).toBe('    def helper(x):\n        return [y for y in x if y]\n    return total\n');
    expect(last.givenPrefix).toBe('');
    expect(last.target).toBe(PY_NESTED);
    expect(first.stageCount).toBe(6);
    // Out-of-range stages are clamped, never thrown (the trainer's path).
    expect((await c.prompt(nested, 99)).stage).toBe(5);
    expect((await c.prompt(nested, -3)).stage).toBe(0);
  });

  it('caches split results per problem id', async () => {
    const c = createStepsCurriculum({ splitter });
    await c.prompt(nested, 0);
    await c.stageOf(nested, 0);
    await c.prompt(tryProblem, 1);
    expect(c.prompter.cache.size).toBe(2);
    const a = c.prompter.cache.get(nested);
    expect(c.prompter.cache.get(nested)).toBe(a);
  });

  it('state round-trips and refuses another schedule’s state', () => {
    const c = createStepsCurriculum({ splitter, stepsPerStage: 7 });
    const state = JSON.parse(JSON.stringify(c.state()));
    expect(state).toEqual({ schedule: 'steps', version: 1, stepsPerStage: 7 });
    c.restore(state);
    expect(() => c.restore({ schedule: 'adaptive' })).toThrow(StepcoderError);
  });
});

describe('adaptive schedule', () => {
  const opts = { splitter, window: 4, advanceAt: 0.75, fallbackBelow: 0.25 };

  it('advances when the recent pass rate crosses the threshold', async () => {
    const c = createAdaptiveCurriculum(opts);
    expect(await c.stageOf(nested, 0)).toBe(0);
    feed(c, 'nested', 0, [true, true, false]);
    expect(await c.stageOf(nested, 1)).toBe(0); // fewer than `window` samples: hold
    feed(c, 'nested', 0, [true]);
    expect(await c.stageOf(nested, 2)).toBe(1); // 3/4 ≥ 0.75
    expect(c.problemState('nested')).toEqual({ stage: 1, stageCount: 6, recent: [] });
  });

  it('holds between the thresholds and ignores feedback of other stages', async () => {
    const c = createAdaptiveCurriculum(opts);
    await c.stageOf(nested, 0);
    feed(c, 'nested', 0, [true, false, true, false, true, false]);
    expect(await c.stageOf(nested, 1)).toBe(0);
    feed(c, 'nested', 3, [true, true, true, true]); // stale stage: ignored
    expect(await c.stageOf(nested, 2)).toBe(0);
  });

  it('goes back a stage when the pass rate collapses, never below 0, never past the last', async () => {
    const c = createAdaptiveCurriculum({ ...opts, startStage: 2 });
    expect(await c.stageOf(nested, 0)).toBe(2);
    feed(c, 'nested', 2, [false, false, false, false]);
    expect(await c.stageOf(nested, 1)).toBe(1);
    feed(c, 'nested', 1, [false, false, false, false]);
    feed(c, 'nested', 0, [false, false, false, false]);
    expect(await c.stageOf(nested, 2)).toBe(0);
    for (let stage = 0; stage < 8; stage++) feed(c, 'nested', stage, [true, true, true, true]);
    expect(await c.stageOf(nested, 3)).toBe(5);
    expect(c.problemState('nested')!.stage).toBe(5);
  });

  it('clamps a start stage beyond a problem’s last stage', async () => {
    const c = createAdaptiveCurriculum({ ...opts, startStage: 50 });
    expect(await c.stageOf(nested, 0)).toBe(5);
  });

  it('review sampling is seeded: same seed, same stages; easier stages only', async () => {
    const draw = async (seed: number) => {
      const c = createAdaptiveCurriculum({ ...opts, startStage: 4, reviewProb: 0.5, seed });
      const out: number[] = [];
      for (let step = 0; step < 60; step++) out.push(await c.stageOf(nested, step));
      return out;
    };
    const a = await draw(7);
    expect(await draw(7)).toEqual(a);
    expect(await draw(8)).not.toEqual(a);
    expect(a.every((s) => s >= 0 && s <= 4)).toBe(true);
    expect(a.filter((s) => s < 4).length).toBeGreaterThan(10);
    expect(a.filter((s) => s === 4).length).toBeGreaterThan(10);
  });

  it('state is JSON and restores the exact schedule, RNG included', async () => {
    const c = createAdaptiveCurriculum({ ...opts, reviewProb: 0.3, seed: 'resume' });
    await c.stageOf(nested, 0);
    await c.stageOf(tryProblem, 0);
    feed(c, 'nested', 0, [true, true, true, true]);
    feed(c, 'try', 0, [true, false]);
    const saved = JSON.parse(JSON.stringify(c.state()));
    const next = async (cur: typeof c) => {
      const out: number[] = [];
      for (let i = 0; i < 20; i++) out.push(await cur.stageOf(i % 2 ? nested : tryProblem, i));
      return out;
    };
    const expected = await next(c);
    const resumed = createAdaptiveCurriculum({ ...opts, reviewProb: 0.3, seed: 'other' });
    resumed.restore(saved);
    expect(resumed.state()).toEqual(saved);
    expect(await next(resumed)).toEqual(expected);
    expect(resumed.problemState('try')).toEqual({ stage: 0, stageCount: 7, recent: [1, 0] });
  });

  it('rejects a malformed state naming the field', () => {
    const c = createAdaptiveCurriculum(opts);
    expect(() =>
      c.restore({
        schedule: 'adaptive',
        version: 1,
        rng: { path: 'x', s: [1, 2, 3, 4] },
        problems: { a: { stage: -1, recent: [] } },
      }),
    ).toThrow(/problems\.a\.stage/);
  });

  it('validates options', () => {
    expect(() => createAdaptiveCurriculum({ advanceAt: 0.2, fallbackBelow: 0.5 })).toThrow(/fallbackBelow/);
    expect(() => createAdaptiveCurriculum({ window: 2, minSamples: 3 })).toThrow(ValidationError);
  });
});

describe('none schedule', () => {
  it('always serves the final stage: the whole program', async () => {
    const c = createNoneCurriculum({ splitter });
    expect(await c.stageOf(nested, 0)).toBe(5);
    expect(await c.stageOf(nested, 10_000)).toBe(5);
    const p = await c.prompt(nested, 0);
    expect(p.stage).toBe(5);
    expect(p.givenPrefix).toBe('');
    expect(p.target).toBe(PY_NESTED);
    expect(p.prompt).toBe('# Solve problem nested.\n\n');
    expect(c.state()).toEqual({ schedule: 'none', version: 1 });
  });
});

describe('registry', () => {
  it('registers steps, adaptive and none with validated options', async () => {
    expect(registry.list('curriculum')).toEqual(expect.arrayContaining(['adaptive', 'none', 'steps']));
    const c = await registry.create('curriculum', 'steps', { stepsPerStage: 3, splitter });
    expect(c.name).toBe('steps');
    expect(c.specificationVersion).toBe('v1');
    expect(await c.stageOf(tryProblem, 7)).toBe(2);
    await expect(registry.create('curriculum', 'steps', { stepsPerStage: 0 })).rejects.toThrow(
      /stepsPerStage/,
    );
    await expect(registry.create('curriculum', 'none', { template: '{{nope}}' })).rejects.toThrow(
      /template.*\{\{nope\}\}/s,
    );
  });
});
