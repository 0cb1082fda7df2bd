import {
  type BranchCoverage,
  type Coverage,
  LineIndex,
  type SourceRange,
  type StatementCoverage,
  utf8ColumnToUtf16,
} from '@stepcoder/core';

/**
 * How the hits of a statement or branch arm are read from line hit counts:
 * `p`: the largest hit count among these lines (the lines that belong to it alone);
 * `d`: hits(d[0]) − hits(d[1]), for an implicit `else` / loop exit: header evaluations minus
 * the times the body was entered.
 */
type HitSpec = { p: number[] } | { d: [number[], number[]] };

/** [startLine, startByteCol, endLine, endByteCol]: Python's ast positions (UTF-8 byte columns). */
type ByteRange = [number, number, number, number];

interface StaticArm {
  range?: ByteRange;
  p?: number[];
  d?: [number[], number[]];
}

/** What the harness reports about the candidate before running it (coverage runs only). */
export interface StaticCoverage {
  exe: number[];
  stm: Array<[...ByteRange, number[]]>;
  br: Array<{ kind: string; line: number; arms: StaticArm[] }>;
}

function isIntArray(v: unknown): v is number[] {
  return Array.isArray(v) && v.every((x) => Number.isInteger(x));
}

/** Shape check of the untrusted static record; `undefined` when it is malformed. */
export function parseStatic(record: Record<string, unknown>): StaticCoverage | undefined {
  const { exe, stm, br } = record;
  if (!isIntArray(exe) || !Array.isArray(stm) || !Array.isArray(br)) return undefined;
  const okStatement = (s: unknown) =>
    Array.isArray(s) && s.length === 5 && isIntArray(s.slice(0, 4)) && isIntArray(s[4]);
  const okArm = (a: unknown) => {
    if (typeof a !== 'object' || a === null) return false;
    const arm = a as StaticArm;
    if (arm.range !== undefined && !(isIntArray(arm.range) && arm.range.length === 4)) return false;
    if (arm.p !== undefined) return isIntArray(arm.p);
    return Array.isArray(arm.d) && arm.d.length === 2 && isIntArray(arm.d[0]) && isIntArray(arm.d[1]);
  };
  const okBranch = (b: unknown) => {
    if (typeof b !== 'object' || b === null) return false;
    const x = b as { kind?: unknown; line?: unknown; arms?: unknown };
    return (
      typeof x.kind === 'string' && Number.isInteger(x.line) && Array.isArray(x.arms) && x.arms.every(okArm)
    );
  };
  if (!stm.every(okStatement) || !br.every(okBranch)) return undefined;
  return record as unknown as StaticCoverage;
}

/** Add a test's `{"line": count}` hits (untrusted) into the running totals. */
export function mergeHits(into: Map<number, number>, hits: unknown): void {
  if (typeof hits !== 'object' || hits === null) return;
  for (const [key, value] of Object.entries(hits as Record<string, unknown>)) {
    const line = Number(key);
    if (!Number.isInteger(line) || line < 1 || typeof value !== 'number' || !(value > 0)) continue;
    into.set(line, (into.get(line) ?? 0) + value);
  }
}

/**
 * Coverage in the candidate's own coordinates: lines from line events, statements and branch arms
 * from the static structure, columns converted from UTF-8 bytes to UTF-16 code units.
 */
export function buildCoverage(program: string, info: StaticCoverage, hits: Map<number, number>): Coverage {
  const index = new LineIndex(program);
  const lineText = (line: number) => {
    const [start, end] = index.lineRange(line);
    return program.slice(start, end);
  };
  const maxLine = index.lineCount;
  const hitsOf = (lines: number[]) => lines.reduce((m, l) => Math.max(m, hits.get(l) ?? 0), 0);
  const evaluate = (spec: HitSpec) =>
    'p' in spec ? hitsOf(spec.p) : Math.max(0, hitsOf(spec.d[0]) - hitsOf(spec.d[1]));
  const toRange = ([l1, c1, l2, c2]: ByteRange): SourceRange => ({
    start: { line: l1, column: utf8ColumnToUtf16(lineText(l1), c1) },
    end: { line: l2, column: utf8ColumnToUtf16(lineText(l2), c2) },
  });

  const lines = [...hits.keys()].filter((l) => l <= maxLine).sort((a, b) => a - b);
  const executable = new Set(info.exe.filter((l) => l >= 1 && l <= maxLine));
  for (const l of lines) executable.add(l);
  const lineHits: Record<number, number> = {};
  for (const l of lines) lineHits[l] = hits.get(l)!;

  const statements: StatementCoverage[] = info.stm.map(([l1, c1, l2, c2, probe]) => ({
    ...toRange([l1, c1, l2, c2]),
    hits: hitsOf(probe),
  }));
  const branches: BranchCoverage[] = info.br.map((b) => ({
    kind: b.kind,
    line: b.line,
    arms: b.arms.map((arm) => {
      const hits = evaluate(arm.p ? { p: arm.p } : { d: arm.d! });
      return arm.range ? { range: toRange(arm.range), hits } : { hits };
    }),
  }));
  return {
    lines,
    executableLines: [...executable].sort((a, b) => a - b),
    lineHits,
    statements,
    branches,
  };
}
