import type { BranchCoverage, Coverage, SourcePos, SourceRange, StatementCoverage } from '@stepcoder/core';
import libCoverage from 'istanbul-lib-coverage';
import { instrumentFast } from './instrument.js';
import type { PositionMapper } from './transpile.js';

/** Global the instrumented candidate stores its counters in (inside its own context). */
export const COVERAGE_VARIABLE = '__stepcoder_coverage__';
/** Path under which istanbul files the candidate; the harness reads exactly this entry back. */
export const COVERAGE_PATH = 'program.js';

export type FileCoverageData = libCoverage.FileCoverageData;

/** Hit counters of one test, read back from the isolate as a JSON copy. */
export interface CoverageCounters {
  s: Record<string, number>;
  b: Record<string, number[]>;
  f: Record<string, number>;
}

export interface InstrumentedProgram {
  code: string;
  /** istanbul's initial (all-zero) coverage object: the maps of statements, branches, functions. */
  initial: FileCoverageData;
}

/**
 * Instrument plain JavaScript for istanbul-format coverage (see instrument.ts: the maps and counts
 * istanbul-lib-instrument gives, without its babel traverse/generate). Throws on code babel cannot
 * parse.
 */
export function instrument(code: string): InstrumentedProgram {
  return instrumentFast(code, COVERAGE_PATH, COVERAGE_VARIABLE);
}

/** A small least-recently-used cache: the same program runs many tests, often in many requests. */
export class LruCache<K, V> {
  private readonly map = new Map<K, V>();
  constructor(readonly capacity: number) {}

  get(key: K): V | undefined {
    const value = this.map.get(key);
    if (value !== undefined) {
      this.map.delete(key);
      this.map.set(key, value);
    }
    return value;
  }

  set(key: K, value: V): void {
    if (this.capacity <= 0) return;
    this.map.delete(key);
    this.map.set(key, value);
    if (this.map.size > this.capacity) this.map.delete(this.map.keys().next().value as K);
  }

  get size(): number {
    return this.map.size;
  }
}

/** Merges per-test counters with istanbul-lib-coverage (FileCoverage.merge sums the counters). */
export class CoverageAccumulator {
  private readonly file: libCoverage.FileCoverage;
  private readonly initial: FileCoverageData;

  constructor(initial: FileCoverageData) {
    this.initial = initial;
    this.file = libCoverage.createFileCoverage(structuredClone(initial));
  }

  add(counters: CoverageCounters): void {
    this.file.merge({ ...this.initial, s: counters.s, b: counters.b, f: counters.f });
  }

  data(): FileCoverageData {
    return this.file.data;
  }

  /** The merged coverage in core's shape, in the candidate's own coordinates. */
  toCoverage(mapPosition?: PositionMapper): Coverage {
    return toCoverage(this.file, mapPosition);
  }
}

const BRANCH_KINDS: Record<string, string> = { 'binary-expr': 'logical' };

/**
 * istanbul's per-file coverage → core's Coverage. Lines follow istanbul's own rule
 * (`getLineCoverage`): a line's hit count is the largest count of the statements that start on
 * it, so a multi-line statement counts on its first line and its full range is in `statements`.
 */
export function toCoverage(file: libCoverage.FileCoverage, mapPosition?: PositionMapper): Coverage {
  const data = file.data;
  const map = (p: { line: number; column: number | null }): SourcePos => {
    const pos = { line: p.line, column: p.column ?? 0 };
    return mapPosition ? mapPosition(pos) : pos;
  };
  const range = (r: libCoverage.Range): SourceRange => ({ start: map(r.start), end: map(r.end) });

  const lineCoverage = file.getLineCoverage();
  const executableLines = Object.keys(lineCoverage)
    .map(Number)
    .sort((a, b) => a - b);
  const lineHits: Record<number, number> = {};
  const lines: number[] = [];
  for (const line of executableLines) {
    const hits = lineCoverage[line] ?? 0;
    if (hits > 0) {
      lines.push(line);
      lineHits[line] = hits;
    }
  }

  const statements: StatementCoverage[] = Object.keys(data.statementMap).map((id) => ({
    ...range(data.statementMap[id]!),
    hits: data.s[id] ?? 0,
  }));

  const branches: BranchCoverage[] = Object.keys(data.branchMap).map((id) => {
    const b = data.branchMap[id]!;
    const hits = data.b[id] ?? [];
    return {
      kind: BRANCH_KINDS[b.type] ?? b.type,
      line: b.loc?.start.line ?? b.locations[0]?.start.line ?? 0,
      arms: b.locations.map((loc, i) => {
        const arm: { range?: SourceRange; hits: number } = { hits: hits[i] ?? 0 };
        // istanbul gives an implicit `else` an empty location (no line): it has no code.
        if (loc?.start?.line !== undefined && loc.end?.line !== undefined) arm.range = range(loc);
        return arm;
      }),
    };
  });

  return { lines, executableLines, lineHits, statements, branches };
}
