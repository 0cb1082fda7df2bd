import { type Coverage, registry, StepcoderError } from '@stepcoder/core';
import { describe, expect, it } from 'vitest';
import {
  createBranchMask,
  createLineMask,
  createNoneMask,
  createSoftMask,
  createStatementMask,
  maskStats,
  maskStatsByStrategy,
} from '../src/index.js';
import { jsFixtures, pythonFixtures } from './fixtures/programs.js';
import { maskInput, render, tokenize } from './helpers/tokens.js';

const line = createLineMask();
const all = [createNoneMask(), line, createStatementMask(), createBranchMask(), createSoftMask()];
const nothingRan: Coverage = { lines: [], executableLines: [1, 2, 3] };
const source = 'a = 1\nb = 2\nc = 3\n';

describe('outcomes without a usable coverage', () => {
  it('gives a program that failed to compile an all-ones mask, whatever the coverage says', () => {
    for (const strategy of all) {
      const r = strategy.explain(maskInput('', source, 'python', nothingRan, 'compile_error'));
      expect([...r.weights]).toEqual(tokenize(source).map(() => 1));
      expect(r.reason).toBe(strategy.name === 'none' ? 'baseline' : 'compile_error');
    }
  });

  it('gives infra errors and results without coverage all ones, and says why', () => {
    const infra = line.explain(maskInput('', source, 'python', nothingRan, 'infra_error'));
    expect(infra.reason).toBe('infra_error');
    expect(infra.weights.every((w) => w === 1)).toBe(true);
    const none = line.explain(maskInput('', source, 'python', undefined, 'wrong_answer'));
    expect(none.reason).toBe('no_coverage');
    expect(none.weights.every((w) => w === 1)).toBe(true);
    expect(maskStats([infra, none]).reasons).toEqual({ infra_error: 1, no_coverage: 1 });
  });

  it('keeps every token at 1 in the none baseline, which needs no coverage', () => {
    const none = createNoneMask();
    expect(none.needsCoverage).toBe(false);
    expect(line.needsCoverage).toBe(true);
    const w = none.weights(maskInput('', source, 'python', nothingRan, 'wrong_answer'));
    expect([...w]).toEqual(tokenize(source).map(() => 1));
  });

  it('masks nothing when there is nothing to attach tokens to', () => {
    const r = line.explain(maskInput('', '# only a comment\n', 'python', { lines: [], executableLines: [] }));
    expect(r.weights.every((w) => w === 1)).toBe(true);
  });
});

describe('token mapping', () => {
  const prefix = 'def f(x):\n    if x:\n        return 1\n';
  const coverage: Coverage = { lines: [1, 2, 3], executableLines: [1, 2, 3, 4] };

  it('covers only generated tokens, in completion coordinates', () => {
    const completion = '    return 2\n';
    const input = maskInput(prefix, completion, 'python', coverage);
    const w = line.weights(input);
    expect(w).toHaveLength(tokenize(completion).length);
    expect(render(completion, input.tokenSpans, w)).toBe('⟦    return 2\n⟧');
  });

  it('handles a completion that starts in the middle of a line (CCCS cut)', () => {
    const input = maskInput(`${prefix}    ret`, 'urn 2\n', 'python', coverage);
    expect(render('urn 2\n', input.tokenSpans, line.weights(input))).toBe('⟦urn 2\n⟧');
  });

  it('gives a token that straddles an executed and an unexecuted line the executed side', () => {
    const program = 'if x:\n    a()\nb()\n';
    const cov: Coverage = { lines: [1, 3], executableLines: [1, 2, 3] };
    const spans: Array<[number, number]> = [
      [0, 5], // `if x:`
      [5, 10], // `\n    ` : ends line 1 (executed), indents line 2 (not)
      [10, 13], // `a()`
      [13, 15], // `\nb` : ends line 2 (not), starts line 3 (executed)
      [15, 18], // `()\n`
      [12, 12], // empty token inside `a()`
    ];
    const w = line.weights({
      program,
      completionStart: 0,
      tokenSpans: spans,
      language: 'python',
      outcome: 'pass',
      coverage: cov,
    });
    expect([...w]).toEqual([1, 1, 0, 1, 1, 0]);
  });

  it('rejects token spans that do not fit the completion', () => {
    const input = maskInput(prefix, 'x\n', 'python', coverage);
    expect(() => line.weights({ ...input, tokenSpans: [[0, 3]] })).toThrow(/tokenSpans\[0\] = \[0, 3\)/);
    expect(() => line.weights({ ...input, tokenSpans: [[2, 1]] })).toThrow(StepcoderError);
    expect(() => line.weights({ ...input, completionStart: 999 })).toThrow(/completionStart/);
    try {
      line.weights({ ...input, tokenSpans: [[-1, 1]] });
    } catch (err) {
      expect(StepcoderError.is(err, 'TOKENIZER')).toBe(true);
    }
  });
});

describe('non-executable lines', () => {
  it('Python: backslash continuation follows its statement, comments the code after them', () => {
    const completion = 'x = 1 + \\\n    2\nif x > 5:\n    # big\n    y = 1\n# done\nz = 3\n';
    // sys.settrace on CPython 3.11: executed 1, 3, 7; executable 1, 3, 5, 7 (`1 + 2` is folded).
    const input = maskInput('', completion, 'python', { lines: [1, 3, 7], executableLines: [1, 3, 5, 7] });
    expect(render(completion, input.tokenSpans, line.weights(input))).toBe(
      'x = 1 + \\\n    2\nif x > 5:\n    ⟦# big\n    y = 1\n⟧# done\nz = 3\n',
    );
  });

  it('JavaScript: object literal lines follow their declaration, `}` the line that opened the block', () => {
    const completion = 'const cfg = {\n  a: 1,\n  b: `x\ny`,\n};\nif (flag) {\n  run();\n}\n';
    // istanbul statements start on lines 1, 6, 7 (`cfg = …`, the if, `run()`); flag is false.
    const input = maskInput('', completion, 'javascript', { lines: [1, 6], executableLines: [1, 6, 7] });
    expect(render(completion, input.tokenSpans, line.weights(input))).toBe(
      'const cfg = {\n  a: 1,\n  b: `x\ny`,\n};\nif (flag) {\n  ⟦run();\n⟧}\n',
    );
  });
  it('blank lines follow the code after them', () => {
    const completion = 'def unused():\n    return 1\n\nx = 2\n';
    const input = maskInput('', completion, 'python', { lines: [1, 4], executableLines: [1, 2, 4] });
    expect(render(completion, input.tokenSpans, line.weights(input))).toBe(
      'def unused():\n    ⟦return 1⟧\n\nx = 2\n',
    );
  });

  it('brackets inside strings and comments do not open continuations', () => {
    const py = 's = "((" # (\nif s:\n    t = 1\nelse:\n    t = 2\n';
    const pyInput = maskInput('', py, 'python', { lines: [1, 2, 3], executableLines: [1, 2, 3, 5] });
    expect(render(py, pyInput.tokenSpans, line.weights(pyInput))).toBe(
      's = "((" # (\nif s:\n    t = 1\n⟦else:\n    t = 2\n⟧',
    );
    const js = 'const s = "(("; // (\nif (s) {\n  t(1);\n} else {\n  t(\'[\');\n}\n';
    const jsInput = maskInput('', js, 'javascript', { lines: [1, 2, 3], executableLines: [1, 2, 3, 5] });
    expect(render(js, jsInput.tokenSpans, line.weights(jsInput))).toBe(
      'const s = "(("; // (\nif (s) {\n  t(1);\n⟦} else {\n  t(\'[\');\n}\n⟧',
    );
  });
});

describe('statement and soft strategies', () => {
  it('falls back to lines when the executor gives no statements, and says so', () => {
    const f = pythonFixtures.loopNeverEntered;
    const r = createStatementMask().explain(maskInput(f.prefix, f.completion, f.language, f.coverage));
    expect(r.granularity).toBe('line');
    const js = jsFixtures.exception;
    expect(
      createStatementMask().explain(maskInput(js.prefix, js.completion, js.language, js.coverage))
        .granularity,
    ).toBe('statement');
  });

  it('weights tokens by hit counts: floor + (1 - floor) * min(1, hits / saturation)', () => {
    const completion = 'a()\nb()\nc()\nd()\n';
    const coverage: Coverage = {
      lines: [1, 2, 3],
      executableLines: [1, 2, 3, 4],
      lineHits: { 1: 1, 2: 2, 3: 9 },
    };
    const input = maskInput('', completion, 'python', coverage);
    const soft = createSoftMask({ floor: 0.2, saturation: 4 });
    expect(render(completion, input.tokenSpans, soft.weights(input))).toBe(
      '{a|0.4}{(|0.4}{)|0.4}{\n|0.4}{b|0.6}{(|0.6}{)|0.6}{\n|0.6}c()\n{d|0.2}{(|0.2}{)|0.2}{\n|0.2}',
    );
  });

  it('equals the line mask with floor 0 and saturation 1', () => {
    for (const f of Object.values(pythonFixtures)) {
      const input = maskInput(f.prefix, f.completion, f.language, f.coverage);
      const soft = createSoftMask({ floor: 0, saturation: 1, granularity: 'line' });
      expect([...soft.weights(input)]).toEqual([...line.weights(input)]);
    }
  });

  it('validates options, naming the option', () => {
    expect(() => createSoftMask({ floor: 2 })).toThrow(/floor/);
    expect(() => createSoftMask({ saturation: 0 })).toThrow(/saturation/);
    expect(() => createLineMask({ granularity: 'line' } as never)).toThrow(/granularity/);
  });
});

describe('maskStats', () => {
  it('reports the fraction of completion tokens masked, per strategy', () => {
    const stats = maskStats([new Float32Array([1, 0, 0, 1]), new Float32Array([0.5, 1])]);
    expect(stats).toMatchObject({ sequences: 2, tokens: 6, masked: 2, partial: 1, reasons: {} });
    expect(stats.maskedFraction).toBeCloseTo(2 / 6);
    expect(stats.meanWeight).toBeCloseTo(3.5 / 6);
    expect(maskStats([])).toMatchObject({ tokens: 0, maskedFraction: 0, meanWeight: 1 });

    const f = jsFixtures.ifElse;
    const input = maskInput(f.prefix, f.completion, f.language, f.coverage);
    const byStrategy = maskStatsByStrategy({
      none: [createNoneMask().explain(input)],
      statement: [createStatementMask().explain(input)],
      branch: [createBranchMask().explain(input)],
    });
    expect(byStrategy.none!.masked).toBe(0);
    expect(byStrategy.none!.reasons).toEqual({ baseline: 1 });
    expect(byStrategy.branch!.masked).toBe(byStrategy.statement!.masked + 3);
  });
});

describe('registration', () => {
  it('registers the five strategies as kind mask, with option schemas', async () => {
    expect(registry.list('mask')).toEqual(
      expect.arrayContaining(['none', 'line', 'statement', 'branch', 'soft']),
    );
    const soft = await registry.create('mask', 'soft', { floor: 0.5 });
    expect(soft.name).toBe('soft');
    expect(soft.specificationVersion).toBe('v1');
    await expect(registry.create('mask', 'soft', { floor: -1 })).rejects.toThrow(
      /options of mask 'soft'[\s\S]*floor/,
    );
  });
});
