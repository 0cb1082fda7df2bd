import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { createPythonSplitter, splitPrograms, stagesFromSplit } from '../src/base.js';

/**
 * Random valid programs from a small grammar: nested if/elif/else, for, while, def, try/except/
 * finally (Python) or if/else, for, while, function, try/catch/finally (JS) around simple
 * statements, including strings that look like code.
 */
const simplePy = fc.constantFrom(
  'x = 1',
  'y += x',
  "s = 'if x: pass'",
  'print(x)',
  'pass',
  's = """\nfor a in b:\n"""',
);
const simpleJs = fc.constantFrom(
  'x = 1;',
  'y += x;',
  "s = 'if (x) {}';",
  'console.log(x);',
  's = `\nwhile (a) {\n`;',
);

type Tree = { kind: string; body: Tree[] } | { kind: 'stmt'; text: string };

function treeArb(simple: fc.Arbitrary<string>, kinds: string[]): fc.Arbitrary<Tree[]> {
  const { block } = fc.letrec<{ node: Tree; block: Tree[] }>((tie) => ({
    node: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      simple.map((text) => ({ kind: 'stmt', text }) as Tree),
      fc.record({ kind: fc.constantFrom(...kinds), body: tie('block') }) as fc.Arbitrary<Tree>,
    ),
    block: fc.array(tie('node'), { minLength: 1, maxLength: 4 }) as fc.Arbitrary<Tree[]>,
  }));
  return block;
}

function renderPy(nodes: Tree[], indent: string): string {
  return nodes
    .map((n) => {
      if (n.kind === 'stmt') return `${indent}${(n as { text: string }).text}\n`;
      const body = renderPy((n as { body: Tree[] }).body, `${indent}    `);
      switch (n.kind) {
        case 'if':
          return `${indent}if x:\n${body}${indent}elif y:\n${body}${indent}else:\n${body}`;
        case 'for':
          return `${indent}for i in range(2):\n${body}`;
        case 'while':
          return `${indent}while x:\n${body}`;
        case 'def':
          return `${indent}@staticmethod\n${indent}def g(x):\n${indent}    """doc\n${indent}    if x:\n${indent}    """\n${body}`;
        default:
          return `${indent}try:\n${body}${indent}except Exception:\n${body}${indent}finally:\n${body}`;
      }
    })
    .join('');
}

function renderJs(nodes: Tree[], indent: string): string {
  return nodes
    .map((n) => {
      if (n.kind === 'stmt') return `${indent}${(n as { text: string }).text}\n`;
      const body = renderJs((n as { body: Tree[] }).body, `${indent}  `);
      switch (n.kind) {
        case 'if':
          return `${indent}if (x) {\n${body}${indent}} else if (y) {\n${body}${indent}} else {\n${body}${indent}}\n`;
        case 'for':
          return `${indent}for (let i = 0; i < 2; i++) {\n${body}${indent}}\n`;
        case 'while':
          return `${indent}while (x) {\n${body}${indent}}\n`;
        case 'def':
          return `${indent}function g(x) {\n${body}${indent}}\n`;
        default:
          return `${indent}try {\n${body}${indent}} catch (e) {\n${body}${indent}} finally {\n${body}${indent}}\n`;
      }
    })
    .join('');
}

/** The oracle: split points the grammar puts in a tree (if: if/elif|else if/else; try: 3 clauses). */
function expectedPoints(nodes: Tree[]): number {
  let n = 0;
  for (const node of nodes) {
    if (node.kind === 'stmt') continue;
    const inner = expectedPoints((node as { body: Tree[] }).body);
    n += node.kind === 'if' || node.kind === 'try' ? 3 + 3 * inner : 1 + inner;
  }
  return n;
}

const splitter = createPythonSplitter();
afterAll(() => splitter.close());

const KINDS = ['if', 'for', 'while', 'def', 'try'];

describe('property: prefix + remainder === program', () => {
  it('for random Python and JavaScript programs, at every stage', async () => {
    const program = fc.oneof(
      treeArb(simplePy, KINDS).map((t) => ({
        source: `def main(x, y):\n${renderPy(t, '    ')}`,
        language: 'python' as const,
        // A construct right after the starter `def main` line starts at starterEnd: that cut is the
        // final stage itself, not an extra point.
        expected: expectedPoints(t) - (t[0]!.kind === 'stmt' ? 0 : 1),
      })),
      treeArb(simpleJs, KINDS).map((t) => ({
        source: `function main(x, y) {\n${renderJs(t, '  ')}}\n`,
        language: 'javascript' as const,
        expected: expectedPoints(t),
      })),
    );
    const samples = fc.sample(program, { seed: 20261122, numRuns: 300 });
    const results = await splitPrograms(
      samples.map((s) => ({
        source: s.source,
        language: s.language,
        starterCode: s.language === 'python' ? 'def main(x, y):\n' : undefined,
      })),
      { splitter },
    );
    let stages = 0;
    samples.forEach((sample, i) => {
      const r = results[i]!;
      expect(r.method, `${r.reason}\n${sample.source}`).toBe('ast');
      // Exactly the grammar's constructs: none inside the code-like strings or docstrings.
      expect(r.points).toHaveLength(sample.expected);
      for (let k = 1; k < r.points.length; k++) expect(r.points[k]!).toBeGreaterThan(r.points[k - 1]!);
      for (const p of r.points) {
        expect(p).toBeGreaterThan(r.starterEnd);
        expect(p).toBeLessThan(sample.source.length);
        expect(sample.source[p - 1]).toBe('\n');
        expect(sample.source.slice(p)).toMatch(
          /^\s*(if|elif|else|for|while|try|except|finally|function|@staticmethod|\} (else|catch|finally))\b/,
        );
      }
      for (const s of stagesFromSplit(sample.source, r)) {
        expect(s.givenPrefix + s.target).toBe(sample.source);
        stages++;
      }
    });
    expect(stages).toBeGreaterThan(samples.length);
  });

  it('the invariant holds through fast-check’s runner too (fixed seed)', async () => {
    await fc.assert(
      fc.asyncProperty(treeArb(simplePy, KINDS), async (tree) => {
        const source = renderPy(tree, '');
        const [r] = await splitPrograms([{ source, language: 'python' }], { splitter });
        if (r!.method !== 'ast') return false;
        const staged = stagesFromSplit(source, r!);
        // The top level starts at offset 0, which is the final stage rather than a point.
        const first = tree[0]!;
        const atZero = first.kind === 'stmt' ? 0 : 1;
        return (
          r!.points.length === expectedPoints(tree) - atZero &&
          staged.every((s) => s.givenPrefix + s.target === source) &&
          staged.length === r!.points.length + 1
        );
      }),
      { seed: 42, numRuns: 60 },
    );
  });
});
