/**
 * Masks per second of each strategy on synthetic ~50-line / ~400-token programs with line,
 * statement and branch coverage, against the `none` baseline measured in the same run.
 * Run: pnpm --filter @stepcoder/coverage-mask bench
 */
import type {
  BranchCoverage,
  Coverage,
  Language,
  MaskInput,
  StatementCoverage,
  TokenSpan,
} from '@stepcoder/core';
import {
  createBranchMask,
  createLineMask,
  createNoneMask,
  createSoftMask,
  createStatementMask,
  maskStats,
} from '../src/index.js';

function tokenize(text: string): TokenSpan[] {
  return [...text.matchAll(/\s+|[\p{L}\p{N}_$]+|[^\s\p{L}\p{N}_$]/gu)].map((m) => [
    m.index,
    m.index + m[0].length,
  ]);
}

/** Function k: called (k % 3 !== 2), and when called its `if` takes only the first arm (k % 3 === 0). */
function program(language: Language): { text: string; coverage: Coverage } {
  const lines: string[] = [];
  const executed = new Set<number>();
  const executable = new Set<number>();
  const statements: StatementCoverage[] = [];
  const branches: BranchCoverage[] = [];
  const stmt = (text: string, hit: boolean): void => {
    lines.push(text);
    const line = lines.length;
    executable.add(line);
    if (hit) executed.add(line);
    const column = text.length - text.trimStart().length;
    statements.push({ start: { line, column }, end: { line, column: text.length }, hits: hit ? 3 : 0 });
  };
  const py = language === 'python';
  // About 50 lines either way: a Python function takes 10 lines, a JavaScript one 13.
  for (let k = 0; k < (py ? 5 : 4); k++) {
    const called = k % 3 !== 2;
    const both = k % 3 === 1;
    stmt(py ? `def f${k}(xs, limit=${k}):` : `function f${k}(xs, limit = ${k}) {`, true);
    stmt(py ? '    total = 0' : '  let total = 0;', called);
    stmt(py ? '    for x in xs:' : '  for (const x of xs) {', called);
    stmt(py ? '        if x > limit:' : '    if (x > limit) {', called);
    const ifLine = lines.length;
    stmt(py ? '            total += x * 2' : '      total += x * 2;', called);
    lines.push(py ? '        else:' : '    } else {');
    stmt(py ? '            total -= 1' : '      total -= 1;', called && both);
    if (!py) lines.push('    }', '  }');
    lines.push(py ? '    # the result' : '  // the result');
    stmt(py ? '    return total' : '  return total;', called);
    if (!py) lines.push('}');
    const arm = (line: number, hits: number) => ({
      range: { start: { line, column: 0 }, end: { line, column: lines[line - 1]!.length } },
      hits,
    });
    branches.push({
      kind: 'if',
      line: ifLine,
      arms: [arm(ifLine + 1, called ? 3 : 0), arm(ifLine + 3, called && both ? 1 : 0)],
    });
    lines.push('');
  }
  const sorted = (s: Set<number>) => [...s].sort((a, b) => a - b);
  const lineHits = Object.fromEntries(sorted(executed).map((l) => [l, 3]));
  return {
    text: lines.join('\n'),
    coverage: {
      lines: sorted(executed),
      executableLines: sorted(executable),
      lineHits,
      statements,
      branches,
    },
  };
}

function measure(fn: () => void, ms: number): number {
  for (let i = 0; i < 200; i++) fn();
  let n = 0;
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < ms) {
    for (let i = 0; i < 100; i++) fn();
    n += 100;
    elapsed = performance.now() - start;
  }
  return (n / elapsed) * 1000;
}

const strategies = [
  createNoneMask(),
  createLineMask(),
  createStatementMask(),
  createBranchMask(),
  createSoftMask(),
];
const rows: string[] = [];
for (const language of ['python', 'javascript'] as const) {
  const { text, coverage } = program(language);
  const completionStart = text.indexOf('\n') + 1;
  const input: MaskInput = {
    program: text,
    completionStart,
    tokenSpans: tokenize(text.slice(completionStart)),
    language,
    outcome: 'wrong_answer',
    coverage,
  };
  let baseline = 0;
  for (const s of strategies) {
    const perSecond = measure(() => s.weights(input), 1500);
    if (s.name === 'none') baseline = perSecond;
    const stats = maskStats([s.weights(input)]);
    rows.push(
      `| ${language} | ${s.name} | ${text.split('\n').length} / ${input.tokenSpans.length} | ${Math.round(perSecond).toLocaleString('en-US')} | ${(
        perSecond / baseline
      ).toFixed(3)} | ${(stats.maskedFraction * 100).toFixed(1)}% | ${stats.meanWeight.toFixed(2)} |`,
    );
  }
}

console.log(
  `Node ${process.version}, ${process.platform}/${process.arch}; shared machine, timings are noisy.\n`,
);
console.log('| language | strategy | lines / tokens | masks/s | vs none | tokens masked | mean weight |');
console.log('|---|---|---|---|---|---|---|');
for (const r of rows) console.log(r);
