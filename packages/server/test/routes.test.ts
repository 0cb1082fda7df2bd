import { fileURLToPath } from 'node:url';
import { loadTokenizer } from '@stepcoder/model';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADD_PROBLEM, type Running, startServer } from './helpers.js';

describe('/v1 routes on a real server', () => {
  let s: Running;
  beforeAll(async () => {
    s = await startServer({ skipWarmup: false });
    await s.server.warmup();
  });
  afterAll(() => s.server.close());

  it('is ready once both executors ran their warm-up program', async () => {
    expect(await (await fetch(`${s.url}/readyz`)).json()).toEqual({ ready: true });
  });

  it('/v1/execute returns the ExecutionResult, with coverage on request', async () => {
    const res = await s.post('/v1/execute', {
      program: ADD_PROBLEM.canonicalSolutions[0],
      language: 'python',
      tests: ADD_PROBLEM.tests,
      coverage: true,
    });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ outcome: 'pass', passed: 2, total: 2 });
    expect(res.json.coverage.lines).toEqual([1, 2, 3]);
    expect(res.json.coverage.executableLines).toContain(4);
  });

  it.each([
    [
      'exit(0) before the tests',
      'import sys\nsys.exit(0)\ndef add(a, b):\n    return a + b\n',
      'runtime_error',
    ],
    ['os._exit(0) inside the function', 'import os\ndef add(a, b):\n    os._exit(0)\n', 'runtime_error'],
    ['an endless loop', 'def add(a, b):\n    while True:\n        pass\n', 'timeout'],
    ['a memory bomb', 'def add(a, b):\n    x = bytearray(1 << 34)\n    return a + b\n', 'memory_limit'],
    ['a syntax error', 'def add(a, b)\n    return a + b\n', 'compile_error'],
  ])('hostile Python through HTTP: %s never passes', async (_name, program, outcome) => {
    const res = await s.post('/v1/execute', {
      program,
      language: 'python',
      tests: ADD_PROBLEM.tests,
      limits: { timeoutMs: 1000, memoryMb: 256 },
    });
    expect(res.status).toBe(200);
    expect(res.json.outcome).toBe(outcome);
  });

  it('hostile JavaScript through HTTP: process.exit(0) never passes, an endless loop times out', async () => {
    const tests = { kind: 'call', fnName: 'add', inputs: [[1, 2]], outputs: [3] };
    const exit = await s.post('/v1/execute', {
      program: 'function add(a, b) { process.exit(0); }',
      language: 'javascript',
      tests,
    });
    expect(exit.json.outcome).not.toBe('pass');
    const loop = await s.post('/v1/execute', {
      program: 'function add(a, b) { for (;;) {} }',
      language: 'javascript',
      tests,
      limits: { timeoutMs: 500 },
    });
    expect(loop.json.outcome).toBe('timeout');
  });

  it('clamps limits to the operator ceiling', async () => {
    const strict = await startServer({ maxLimits: { timeoutMs: 300 } });
    try {
      const res = await strict.post('/v1/execute', {
        program: 'function add(a, b) { for (;;) {} }',
        language: 'javascript',
        tests: { kind: 'call', fnName: 'add', inputs: [[1, 2]], outputs: [3] },
        limits: { timeoutMs: 10_000_000 },
      });
      expect(res.json.outcome).toBe('timeout');
      expect(res.json.message).toContain('300 ms');
    } finally {
      await strict.server.close();
    }
  });

  it('/v1/score runs items concurrently, returns them in order, and fails a bad item alone', async () => {
    const givenPrefix = 'def add(a, b):\n';
    const completion = '    if a > 0:\n        return a + b\n    return b + a\n';
    // One token per line of the completion, in code points.
    const lines = completion.split(/(?<=\n)/);
    let at = 0;
    const tokenOffsets = lines.map((l) => {
      const span = [at, at + l.length];
      at += l.length;
      return span;
    });
    const res = await s.post('/v1/score', {
      defaults: { mask: 'line', reward: 'stepcoder' },
      items: [
        { problem: ADD_PROBLEM, givenPrefix, completion, tokenOffsets, coverage: true },
        { problem: ADD_PROBLEM, completion: 'def add(a, b):\n    return a - b\n' },
        { problem: ADD_PROBLEM, completion: 42 },
        { problem: ADD_PROBLEM, completion: 'def add(a, b)\n', reward: 'pass-fraction' },
        { problem: ADD_PROBLEM, givenPrefix, completion, tokenizer: 'byte' },
      ],
    });
    expect(res.status).toBe(200);
    const [full, wrong, bad, syntax, byTokenizer] = res.json.results;
    expect(res.json.results.map((r: { index: number }) => r.index)).toEqual([0, 1, 2, 3, 4]);
    // FGO: every test has a > 0, so `return b + a` (line 3 of the completion) never ran.
    expect(full).toMatchObject({ ok: true, outcome: 'pass', reward: 1, weights: [1, 1, 0] });
    expect(full.coverage.lines).toEqual([1, 2, 3]);
    expect(wrong).toMatchObject({ ok: true, outcome: 'wrong_answer', reward: -0.3 });
    expect(wrong.weights).toBeUndefined();
    expect(bad.ok).toBe(false);
    expect(bad.error.issues).toEqual([{ path: 'items[2].completion', message: expect.any(String) }]);
    expect(syntax).toMatchObject({ ok: true, outcome: 'compile_error' });
    expect(typeof syntax.reward).toBe('number');
    expect(byTokenizer.weights).toHaveLength(new TextEncoder().encode(completion).length);
    expect(byTokenizer.weights.slice(-15).every((w: number) => w === 0)).toBe(true);
  });

  it('/v1/score converts code-point offsets (Python str indices) past U+FFFF', async () => {
    const completion = '    return a + b  # 🙂 ok\n';
    const cps = [...completion];
    const res = await s.post('/v1/score', {
      items: [
        {
          problem: ADD_PROBLEM,
          givenPrefix: 'def add(a, b):\n',
          completion,
          tokenOffsets: [
            [0, 20],
            [20, cps.length],
          ],
        },
        { problem: ADD_PROBLEM, completion, tokenOffsets: [[0, cps.length + 1]] },
      ],
    });
    expect(res.json.results[0]).toMatchObject({ ok: true, outcome: 'pass', weights: [1, 1] });
    expect(res.json.results[1].ok).toBe(false);
    expect(res.json.results[1].error.message).toContain('past the completion');
  });

  it('/v1/curriculum/prompt gives the CCCS stages of a problem', async () => {
    const first = await s.post('/v1/curriculum/prompt', { problem: ADD_PROBLEM, stage: 0 });
    expect(first.status).toBe(200);
    const { stageCount } = first.json;
    expect(stageCount).toBeGreaterThan(1);
    const last = await s.post('/v1/curriculum/prompt', { problem: ADD_PROBLEM, stage: stageCount - 1 });
    expect(last.json.givenPrefix.length).toBeLessThan(first.json.givenPrefix.length);
    expect(first.json.givenPrefix + first.json.target).toBe(ADD_PROBLEM.canonicalSolutions[0]);
    expect(first.json.completionStart).toBe(first.json.givenPrefix.length);
    const none = await s.post('/v1/curriculum/prompt', {
      problem: ADD_PROBLEM,
      stage: 0,
      curriculum: 'none',
    });
    expect(none.json.givenPrefix).toBe(last.json.givenPrefix); // the model always writes it all
  });
});

describe('/v1/curriculum/prompt with a tokenizer', () => {
  let t: Running;
  const path = fileURLToPath(new URL('./fixtures/tiny-bpe.json', import.meta.url));
  beforeAll(async () => {
    t = await startServer({ tokenizers: { tiny: path } });
  });
  afterAll(async () => {
    await t.server.close();
  });

  it('moves each cut so that prompt tokens + target tokens == the joint tokens', async () => {
    const tok = await loadTokenizer(path);
    const joins = (p: { prompt: string; target: string }) =>
      [...tok.encode(p.prompt), ...tok.encode(p.target)].join() === tok.encode(p.prompt + p.target).join();
    const first = await t.post('/v1/curriculum/prompt', { problem: ADD_PROBLEM, stage: 0 });
    let raw = 0;
    for (let stage = 0; stage < first.json.stageCount; stage++) {
      const plain = await t.post('/v1/curriculum/prompt', { problem: ADD_PROBLEM, stage });
      const aligned = await t.post('/v1/curriculum/prompt', {
        problem: ADD_PROBLEM,
        stage,
        tokenizer: 'tiny',
      });
      expect(aligned.status).toBe(200);
      if (!joins(plain.json)) raw++;
      expect(joins(aligned.json)).toBe(true);
      expect(aligned.json.prompt + aligned.json.target).toBe(plain.json.prompt + plain.json.target);
      expect(aligned.json.completionStart).toBe(aligned.json.givenPrefix.length);
    }
    expect(raw).toBeGreaterThan(0); // the line-start cut alone straddles a BPE token
    const unknown = await t.post('/v1/curriculum/prompt', {
      problem: ADD_PROBLEM,
      stage: 0,
      tokenizer: 'nope',
    });
    expect(unknown.status).toBe(400);
    expect(JSON.stringify(unknown.json)).toContain('tiny');
  });
});
