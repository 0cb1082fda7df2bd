import { spawnSync } from 'node:child_process';
import type { Problem } from '@stepcoder/core';
import { afterAll, describe, expect, it } from 'vitest';
import { createPythonSplitter, problemStages, splitProgram, stagesFromSplit } from '../src/base.js';
import { lineNumbers } from './helpers.js';

const splitter = createPythonSplitter();
afterAll(() => splitter.close());

// The shape of the APPS+ problems the issue found (7 of 484): helper functions, then the given def.
const STARTER = 'class Solution:\n    def countPairs(self, nums, k):\n';
const PROGRAM = [
  'import math',
  'def gcd_all(values):',
  '    g = 0',
  '    for v in values:',
  '        g = math.gcd(g, v)',
  '    return g',
  '',
  'def is_pair(a, b, k):',
  '    if (a * b) % k == 0:',
  '        return True',
  '    return False',
  '',
  'class Solution:',
  '    def countPairs(self, nums, k):',
  '        count = 0',
  '        for i in range(len(nums)):',
  '            for j in range(i + 1, len(nums)):',
  '                if is_pair(nums[i], nums[j], k):',
  '                    count += 1',
  '        return count + gcd_all([k]) - k',
  '',
].join('\n');

/** What `Solution().countPairs` returns for each input, run by python3 on a program text. */
function runCalls(program: string): string {
  const driver = `${program}\nimport json\nprint(json.dumps([Solution().countPairs(n, k) for n, k in [([1, 2, 3, 4, 5], 2), ([1, 2, 3, 4], 5), ([6, 3, 9], 3)]]))\n`;
  const run = spawnSync('python3', ['-c', driver], { encoding: 'utf8' });
  expect(run.stderr).toBe('');
  return run.stdout.trim();
}

describe('helper code before the starter def', () => {
  it('keeps split points inside the helper code', async () => {
    const r = await splitProgram(PROGRAM, 'python', { splitter, starterCode: STARTER });
    expect(r.method).toBe('ast');
    expect(r.starterStart).toBe(PROGRAM.indexOf('class Solution'));
    // In the helpers: `def gcd_all` (2), its `for` (4), `def is_pair` (8), its `if` (9); they used
    // to be dropped. In the method: both `for`s (16, 17) and the `if` (18).
    expect(lineNumbers(PROGRAM, r.points)).toEqual([2, 4, 8, 9, 16, 17, 18]);
  });

  it('gives only the starter code at the final stage, and the whole program still runs there', async () => {
    const problem: Problem = {
      id: 'helpers-first',
      language: 'python',
      prompt: 'Count the pairs whose product is divisible by k.',
      starterCode: STARTER,
      canonicalSolutions: [PROGRAM],
      tests: { kind: 'call', fnName: 'countPairs', inputs: [], outputs: [] },
    } as unknown as Problem;
    const staged = await problemStages(problem, { splitter });
    const final = staged.stages.at(-1)!;
    expect(final.givenPrefix).toBe(STARTER);
    expect(final.completionStart).toBe(STARTER.length);
    expect(final.target).toContain('def gcd_all');
    // The reordered program (helpers after the class) computes what the original computes.
    const expected = runCalls(PROGRAM);
    expect(expected).toBe('[7, 0, 3]');
    expect(runCalls(final.givenPrefix + final.target)).toBe(expected);
    // Every earlier stage is a plain cut of the program; fewer characters given at each stage.
    const earlier = staged.stages.slice(0, -1);
    for (const s of earlier) expect(s.givenPrefix + s.target).toBe(PROGRAM);
    const given = staged.stages.map((s) => s.givenPrefix.length);
    expect(given.slice(0, -1)).toEqual([...given.slice(0, -1)].sort((a, b) => b - a));
    // One stage gives helpers + starter (the old final stage); stages after it cut inside the helpers.
    expect(earlier.map((s) => s.givenPrefix.length)).toContain(PROGRAM.indexOf('        count = 0'));
    expect(earlier.at(-1)!.givenPrefix).toBe('import math\n');
  });

  it('a program that starts with its starter keeps the plain invariant at every stage', () => {
    const program = 'def f(x):\n    if x:\n        return 1\n    return 0\n';
    const stages = stagesFromSplit(program, {
      points: [program.indexOf('    if'), program.indexOf('        return 1')],
      method: 'ast',
      starterStart: 0,
      starterEnd: 'def f(x):\n'.length,
    });
    for (const s of stages) expect(s.givenPrefix + s.target).toBe(program);
    expect(stages.at(-1)!.givenPrefix).toBe('def f(x):\n');
  });
});
