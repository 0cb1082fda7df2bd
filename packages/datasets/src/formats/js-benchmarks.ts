import { jsonRows } from '../io/rows.js';
import { commonOptionsSchema } from '../options.js';
import { asObject, describe, optString, reqString, rowError } from '../row-error.js';
import { defineLoader } from './define.js';

export const jsBenchmarkOptionsSchema = commonOptionsSchema.strict();

/**
 * HumanEval-X's JavaScript tests use `console.assert`, which only logs: a failing program would
 * finish without raising and pass. Each case therefore gets a throwing assert, and the test's
 * `console.assert(` calls are pointed at it.
 */
const THROWING_ASSERT =
  "function __stepcoderAssert(cond, ...msg) { if (!cond) throw new Error('Assertion failed' + (msg.length ? ': ' + msg.join(' ') : '')); }\n";

/**
 * MultiPL-E's tests start with `const assert = require('node:assert');`. Sandboxes may grant no
 * `require`, or guard a built-in `assert` against replacement, so the line is dropped and the
 * tests call this self-contained subset of node:assert (ok, equal, strictEqual, notEqual,
 * deepEqual, deepStrictEqual, throws) under a name no program or sandbox uses.
 */
export const INLINE_NODE_ASSERT = `const __stepcoderNodeAssert = (() => {
  const fail = (m) => { throw new Error(m || 'Assertion failed'); };
  const deep = (a, b, strict) => {
    if (strict ? Object.is(a, b) : a == b) return true;
    if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
    if (Array.isArray(a) !== Array.isArray(b)) return false;
    const ka = Object.keys(a);
    const kb = Object.keys(b);
    if (ka.length !== kb.length) return false;
    return ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && deep(a[k], b[k], strict));
  };
  const ok = (v, m) => { if (!v) fail(m); };
  return Object.assign(ok, {
    ok,
    equal: (a, b, m) => ok(a == b, m || a + ' == ' + b),
    strictEqual: (a, b, m) => ok(a === b, m || a + ' === ' + b),
    notEqual: (a, b, m) => ok(a != b, m),
    deepEqual: (a, b, m) => ok(deep(a, b, false), m || 'deepEqual failed'),
    deepStrictEqual: (a, b, m) => ok(deep(a, b, true), m || 'deepStrictEqual failed'),
    throws: (f, m) => { let threw = false; try { f(); } catch { threw = true; } ok(threw, m || 'expected a throw'); },
  });
})();
`;

const REQUIRE_ASSERT = /^\s*const\s+assert\s*=\s*require\(\s*['"](node:)?assert['"]\s*\)\s*;?\s*$/m;

/** Drop the `require` of node:assert and point `assert(…)` / `assert.x(…)` at the inlined copy. */
function rewriteAsserts(tests: string): string {
  return tests.replace(REQUIRE_ASSERT, '').replace(/(?<![\w$.])assert(?=\s*[.(])/g, '__stepcoderNodeAssert');
}

function jsEntryPoint(code: string): string | undefined {
  const m =
    /(?:^|\n)\s*(?:const|let|var)\s+([A-Za-z_$][\w$]*)\s*=\s*(?:async\s*)?(?:\(|function)/.exec(code) ??
    /(?:^|\n)\s*(?:async\s+)?function\s+([A-Za-z_$][\w$]*)\s*\(/.exec(code);
  return m?.[1];
}

/**
 * HumanEval-X JavaScript (humaneval_js.jsonl): task_id, prompt, declaration, canonical_solution,
 * test, example_test. Program = prompt + canonical_solution.
 */
export const createHumanEvalXJsLoader = defineLoader('humaneval-x-js', jsBenchmarkOptionsSchema, () => ({
  rows: (path) => jsonRows(path),
  map: (value, at) => {
    const row = asObject(value);
    const taskId = reqString(row, 'task_id');
    const prompt = reqString(row, 'prompt');
    const solution = reqString(row, 'canonical_solution');
    const test = reqString(row, 'test');
    const declaration = optString(row, 'declaration');
    const exampleTest = optString(row, 'example_test');
    const entryPoint = jsEntryPoint(declaration ?? prompt);
    return {
      id: taskId,
      prompt,
      language: 'javascript',
      canonicalSolutions: [prompt + solution],
      starterCode: prompt,
      tests: {
        kind: 'assert',
        cases: [THROWING_ASSERT + test.replace(/\bconsole\.assert\s*\(/g, '__stepcoderAssert(')],
        ...(entryPoint ? { entryPoint } : {}),
      },
      source: { dataset: 'humaneval-x-js', file: at.file, row: at.row },
      ...(exampleTest ? { meta: { exampleTest } } : {}),
    };
  },
}));

/**
 * MultiPL-E JavaScript (e.g. humaneval-js / mbpp-js): name, language, prompt, doctests, original,
 * prompt_terminology, tests, stop_tokens. MultiPL-E ships no canonical solutions; a
 * `canonical_solution` field, when a derived file has one, is appended to the prompt.
 */
export const createMultiPLEJsLoader = defineLoader('multipl-e-js', jsBenchmarkOptionsSchema, () => ({
  rows: (path) => jsonRows(path),
  map: (value, at) => {
    const row = asObject(value);
    const name = reqString(row, 'name');
    const prompt = reqString(row, 'prompt');
    const tests = reqString(row, 'tests');
    const language = row.language ?? 'js';
    if (language !== 'js' && language !== 'javascript') {
      rowError(
        'language',
        `expected 'js', found ${typeof language === 'string' ? `'${language}'` : describe(language)}`,
      );
    }
    if (row.stop_tokens !== undefined && !Array.isArray(row.stop_tokens)) {
      rowError('stop_tokens', `expected an array, found ${describe(row.stop_tokens)}`);
    }
    const solution = optString(row, 'canonical_solution');
    const candidate = /let\s+candidate\s*=\s*([A-Za-z_$][\w$]*)/.exec(tests)?.[1] ?? jsEntryPoint(prompt);
    const meta: Record<string, unknown> = {};
    for (const key of ['stop_tokens', 'doctests', 'original', 'prompt_terminology']) {
      if (row[key] !== undefined) meta[key] = row[key];
    }
    return {
      id: name,
      prompt,
      language: 'javascript',
      canonicalSolutions: solution === undefined ? [] : [prompt + solution],
      starterCode: prompt,
      tests: {
        kind: 'assert',
        cases: [INLINE_NODE_ASSERT + rewriteAsserts(tests)],
        ...(candidate ? { entryPoint: candidate } : {}),
      },
      source: { dataset: 'multipl-e-js', file: at.file, row: at.row },
      meta,
    };
  },
}));
