import {
  createRng,
  type LoadSummary,
  type Problem,
  type ProblemStream,
  parseProblem,
  type RowIssue,
  type TestSuite,
  testCount,
  ValidationError,
} from '@stepcoder/core';
import type { CommonOptions } from './options.js';
import { datasetRowError, RowError } from './row-error.js';

/** One raw row read from disk: a parsed value, or why it could not be read. */
export interface RawRow {
  file: string;
  row: number | string;
  value?: unknown;
  error?: { field?: string; message: string };
}

export interface RowLocation {
  file: string;
  row: number | string;
}

/** Turns one raw row into a Problem-shaped object; throws RowError for a malformed row. */
export type RowMapper = (value: unknown, at: RowLocation) => unknown;

export interface DatasetSummary extends LoadSummary {
  /** Valid problems left out by `filter` or `split` (counted, never silent). */
  filtered: number;
  /** All issues found; `issues` keeps the first `maxIssues`. */
  issueCount: number;
}

export interface DatasetStream extends ProblemStream {
  summary(): DatasetSummary;
  /** Collect every problem (convenience for small datasets and tests). */
  toArray(): Promise<Problem[]>;
}

export interface StreamSpec {
  dataset: string;
  rows: () => AsyncIterable<RawRow>;
  map: RowMapper;
  options: CommonOptions;
}

function emptySummary(dataset: string): DatasetSummary {
  return { dataset, files: [], loaded: 0, skipped: 0, filtered: 0, issueCount: 0, issues: [] };
}

/** Field path of the first issue of a parseProblem failure, e.g. `tests.outputs`. */
function validationField(err: ValidationError): string | undefined {
  return err.issues[0]?.path || undefined;
}

function capTests(tests: TestSuite, max: number, sample: { seed: number | string; id: string } | undefined) {
  const n = testCount(tests);
  if (n <= max) return tests;
  let keep = Array.from({ length: max }, (_, i) => i);
  if (sample) {
    const all = Array.from({ length: n }, (_, i) => i);
    keep = createRng(sample.seed)
      .split(`tests/${sample.id}`)
      .sample(all, max)
      .sort((a, b) => a - b);
  }
  switch (tests.kind) {
    case 'stdio':
      return { ...tests, cases: keep.map((i) => tests.cases[i]!) };
    case 'assert':
      return { ...tests, cases: keep.map((i) => tests.cases[i]!) };
    case 'call':
      return {
        ...tests,
        inputs: keep.map((i) => tests.inputs[i]!),
        outputs: keep.map((i) => tests.outputs[i]),
      };
  }
}

function keepByFilter(p: Problem, options: CommonOptions): boolean {
  const f = options.filter;
  if (!f) return true;
  if (f.difficulties && !f.difficulties.includes(p.difficulty ?? '')) return false;
  if (f.languages && !f.languages.includes(p.language)) return false;
  if (f.testKinds && !f.testKinds.includes(p.tests.kind)) return false;
  const n = testCount(p.tests);
  if (f.minTests !== undefined && n < f.minTests) return false;
  if (f.maxTests !== undefined && n > f.maxTests) return false;
  if (f.requireCanonical && p.canonicalSolutions.length === 0) return false;
  return true;
}

function inSplit(p: Problem, options: CommonOptions): boolean {
  const s = options.split;
  if (!s) return true;
  const inTest = createRng(s.seed).split(`split/${p.id}`).next() < s.testFraction;
  return s.part === 'test' ? inTest : !inTest;
}

class Stream implements DatasetStream {
  private current: DatasetSummary;

  constructor(private readonly spec: StreamSpec) {
    this.current = emptySummary(spec.dataset);
  }

  summary(): DatasetSummary {
    return this.current;
  }

  async toArray(): Promise<Problem[]> {
    const out: Problem[] = [];
    for await (const p of this) out.push(p);
    return out;
  }

  [Symbol.asyncIterator](): AsyncIterator<Problem> {
    return this.run()[Symbol.asyncIterator]();
  }

  private report(issue: RowIssue): void {
    const s = this.current;
    if (this.spec.options.mode === 'fatal') {
      throw datasetRowError(issue.file, issue.row, issue.field, issue.message);
    }
    s.skipped++;
    s.issueCount++;
    if (s.issues.length < this.spec.options.maxIssues) s.issues.push(issue);
  }

  /** Valid, filtered, split, capped problems in file order. */
  private async *valid(): AsyncGenerator<Problem> {
    const { spec } = this;
    const { options } = spec;
    const summary = this.current;
    const seen = new Set<string>();
    for await (const raw of spec.rows()) {
      if (!seen.has(raw.file)) {
        seen.add(raw.file);
        summary.files.push(raw.file);
      }
      if (raw.error) {
        this.report({ file: raw.file, row: raw.row, field: raw.error.field, message: raw.error.message });
        continue;
      }
      let problem: Problem;
      try {
        const shaped = spec.map(raw.value, { file: raw.file, row: raw.row });
        problem = parseProblem(shaped, `problem at ${raw.file}:${raw.row}`);
      } catch (err) {
        if (err instanceof RowError) {
          this.report({ file: raw.file, row: raw.row, field: err.field, message: err.message });
          continue;
        }
        if (err instanceof ValidationError) {
          const first = err.issues[0];
          this.report({
            file: raw.file,
            row: raw.row,
            field: validationField(err),
            message: first ? first.message : err.message,
          });
          continue;
        }
        throw err;
      }
      if (!keepByFilter(problem, options) || !inSplit(problem, options)) {
        summary.filtered++;
        continue;
      }
      if (options.maxTestsPerProblem !== undefined) {
        const sample =
          options.testSampleSeed === undefined ? undefined : { seed: options.testSampleSeed, id: problem.id };
        problem = { ...problem, tests: capTests(problem.tests, options.maxTestsPerProblem, sample) };
      }
      yield problem;
    }
  }

  private async *shuffled(): AsyncGenerator<Problem> {
    const shuffle = this.spec.options.shuffle;
    if (!shuffle) {
      yield* this.valid();
      return;
    }
    const rng = createRng(shuffle.seed).split('shuffle');
    if (shuffle.buffer === undefined) {
      const all: Problem[] = [];
      for await (const p of this.valid()) all.push(p);
      yield* rng.shuffle(all);
      return;
    }
    const window: Problem[] = [];
    for await (const p of this.valid()) {
      if (window.length < shuffle.buffer) {
        window.push(p);
        continue;
      }
      const j = rng.int(window.length);
      const out = window[j]!;
      window[j] = p;
      yield out;
    }
    yield* rng.shuffle(window);
  }

  private async *run(): AsyncGenerator<Problem> {
    this.current = emptySummary(this.spec.dataset);
    const limit = this.spec.options.limit;
    if (limit === undefined || this.spec.options.shuffle) {
      for await (const p of this.shuffled()) {
        if (limit !== undefined && this.current.loaded >= limit) break;
        this.current.loaded++;
        yield p;
      }
      return;
    }
    for await (const p of this.valid()) {
      this.current.loaded++;
      yield p;
      if (this.current.loaded >= limit) return;
    }
  }
}

export function createProblemStream(spec: StreamSpec): DatasetStream {
  return new Stream(spec);
}

/** A one-paragraph, human-readable account of a load: counts and the first issues. */
export function formatSummary(summary: DatasetSummary, maxLines = 10): string {
  const head = `${summary.dataset}: loaded ${summary.loaded}, skipped ${summary.skipped} malformed, filtered out ${summary.filtered} (${summary.files.length} file${summary.files.length === 1 ? '' : 's'})`;
  const lines = summary.issues
    .slice(0, maxLines)
    .map((i) => `  - ${i.file}:${i.row}${i.field ? ` [${i.field}]` : ''}: ${i.message}`);
  const more = summary.issueCount > maxLines ? [`  … and ${summary.issueCount - maxLines} more`] : [];
  return [head, ...lines, ...more].join('\n');
}
