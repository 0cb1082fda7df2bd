import type { BranchCoverage, Coverage, Language, MaskInput, Outcome, TokenSpan } from '@stepcoder/core';

/**
 * A simple real tokenizer: identifier/number runs, whitespace runs (a line break with the next
 * line's indentation is one token, so it straddles two lines) and single other characters
 * (a surrogate pair stays one token). Spans are UTF-16 offsets, like a BPE tokenizer's.
 */
export function tokenize(text: string): TokenSpan[] {
  const spans: TokenSpan[] = [];
  for (const m of text.matchAll(/\s+|[\p{L}\p{N}_$]+|[^\s\p{L}\p{N}_$]/gu)) {
    spans.push([m.index, m.index + m[0].length]);
  }
  return spans;
}

/** Completion text with runs of weight-0 tokens in ⟦…⟧ and partial weights as {text|w}. */
export function render(completion: string, spans: readonly TokenSpan[], weights: Float32Array): string {
  let out = '';
  let open = false;
  spans.forEach(([s, e], i) => {
    const w = weights[i]!;
    const text = completion.slice(s, e);
    if (w === 0 && !open) {
      out += '⟦';
      open = true;
    } else if (w !== 0 && open) {
      out += '⟧';
      open = false;
    }
    out += w > 0 && w < 1 ? `{${text}|${Math.round(w * 100) / 100}}` : text;
  });
  return open ? `${out}⟧` : out;
}

/** Build the MaskInput of a program whose completion starts after `prefix`. */
export function maskInput(
  prefix: string,
  completion: string,
  language: Language,
  coverage: Coverage | undefined,
  outcome: Outcome = 'pass',
): MaskInput {
  return {
    program: prefix + completion,
    completionStart: prefix.length,
    tokenSpans: tokenize(completion),
    language,
    outcome,
    coverage,
  };
}

type Loc = [line: number, column: number, endLine: number, endColumn: number, hits: number];
type IstanbulArm = [number | null, number | null, number | null, number | null, number];

/**
 * Coverage as an istanbul run reports it (statementMap locations with their counters; branch
 * locations with theirs), in core's shape: lines are the statements' start lines, as in
 * istanbul's own `getLineCoverage`. The arrays were printed by running istanbul-lib-instrument's
 * output under plain Node on the same program and calls.
 */
export function fromIstanbul(
  statements: Loc[],
  branches: Array<{ type: string; line: number; arms: IstanbulArm[] }> = [],
): Coverage {
  const lineHits: Record<number, number> = {};
  for (const [line, , , , hits] of statements) lineHits[line] = Math.max(lineHits[line] ?? 0, hits);
  const executableLines = Object.keys(lineHits)
    .map(Number)
    .sort((a, b) => a - b);
  return {
    lines: executableLines.filter((l) => lineHits[l]! > 0),
    executableLines,
    lineHits: Object.fromEntries(Object.entries(lineHits).filter(([, h]) => h > 0)),
    statements: statements.map(([line, column, endLine, endColumn, hits]) => ({
      start: { line, column },
      end: { line: endLine, column: endColumn },
      hits,
    })),
    branches: branches.map(
      (b): BranchCoverage => ({
        kind: b.type,
        line: b.line,
        arms: b.arms.map(([l, c, el, ec, hits]) =>
          l === null || c === null || el === null || ec === null
            ? { hits }
            : { range: { start: { line: l, column: c }, end: { line: el, column: ec } }, hits },
        ),
      }),
    ),
  };
}
