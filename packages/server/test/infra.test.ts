import { type Executor, registry } from '@stepcoder/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADD_PROBLEM, type Running, startServer } from './helpers.js';

/** An executor whose workers are gone: every run throws, as a broken pool would. */
function brokenExecutor(): Executor {
  return {
    specificationVersion: 'v1',
    name: 'broken',
    languages: ['python'],
    run: async () => {
      throw new Error('worker died');
    },
    dispose: async () => {},
  };
}

describe('executor failures are infrastructure errors, never rewards', () => {
  let s: Running;
  beforeAll(async () => {
    // On the global registry, where the rewards and masks this route also needs are loaded.
    registry.register('executor', 'broken-for-test', brokenExecutor, { override: true });
    s = await startServer({ executors: { python: 'broken-for-test', javascript: 'missing-for-test' } });
  });
  afterAll(() => s.server.close());

  it('/v1/score: the item is infra_error with reward null, the batch still answers', async () => {
    const res = await s.post('/v1/score', {
      items: [{ problem: ADD_PROBLEM, completion: ADD_PROBLEM.canonicalSolutions[0] }],
    });
    expect(res.status).toBe(200);
    expect(res.json.results[0]).toMatchObject({ ok: true, outcome: 'infra_error', reward: null });
    expect(res.json.results[0].message).toContain('worker died');
  });

  it('/run_code: SandboxError with the reason, as SandboxFusion reports its own failures', async () => {
    const res = await s.post('/run_code', { code: 'print(1)', language: 'python' });
    expect(res.status).toBe(200);
    expect(res.json.status).toBe('SandboxError');
    expect(res.json.message).toContain('worker died');
    expect(res.json.run_result.status).toBe('Error');
  });

  it('an executor that cannot be created is a 503 naming it, not a client error', async () => {
    const res = await s.post('/v1/execute', {
      program: 'console.log(1)',
      language: 'javascript',
      tests: { kind: 'stdio', cases: [] },
    });
    // The JavaScript slot is configured to a name no package provides.
    expect(res.status).toBe(503);
    expect(res.json.error.code).toBe('EXECUTOR_UNAVAILABLE');
    expect(res.json.error.message).toContain("'missing-for-test'");
  });

  it('a plugin that throws fails its item alone, with its message', async () => {
    registry.register(
      'mask',
      'throwing-for-test',
      () => ({
        specificationVersion: 'v1',
        name: 'throwing-for-test',
        needsCoverage: false,
        weights: () => {
          throw new Error('mask bug');
        },
      }),
      { override: true },
    );
    const item = { problem: ADD_PROBLEM, completion: 'x', tokenOffsets: [[0, 1]] };
    const res = await s.post('/v1/score', { items: [{ ...item, mask: 'throwing-for-test' }, item] });
    expect(res.json.results[0]).toMatchObject({
      ok: false,
      error: { code: 'INTERNAL', message: 'mask bug' },
    });
    expect(res.json.results[1]).toMatchObject({ ok: true, outcome: 'infra_error' });
  });
});
