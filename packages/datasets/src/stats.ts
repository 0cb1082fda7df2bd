import { type Problem, testCount } from '@stepcoder/core';

export interface Distribution {
  min: number;
  max: number;
  mean: number;
  median: number;
  p90: number;
}

export interface DatasetStats {
  count: number;
  testsPerProblem: Distribution;
  /** Characters of the first canonical solution, over problems that have one. */
  canonicalLength: Distribution;
  withoutCanonical: number;
  languages: Record<string, number>;
  difficulties: Record<string, number>;
  testKinds: Record<string, number>;
}

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

function distribution(values: number[]): Distribution {
  if (values.length === 0) return { min: 0, max: 0, mean: 0, median: 0, p90: 0 };
  const sorted = values.slice().sort((a, b) => a - b);
  const sum = sorted.reduce((a, b) => a + b, 0);
  return {
    min: sorted[0]!,
    max: sorted[sorted.length - 1]!,
    mean: sum / sorted.length,
    median: quantile(sorted, 0.5),
    p90: quantile(sorted, 0.9),
  };
}

function bump(map: Record<string, number>, key: string): void {
  map[key] = (map[key] ?? 0) + 1;
}

/** Summary statistics of a set of problems (difficulty `(none)` when unset). */
export function datasetStats(problems: Iterable<Problem>): DatasetStats {
  const tests: number[] = [];
  const lengths: number[] = [];
  const languages: Record<string, number> = {};
  const difficulties: Record<string, number> = {};
  const testKinds: Record<string, number> = {};
  let count = 0;
  let withoutCanonical = 0;
  for (const p of problems) {
    count++;
    tests.push(testCount(p.tests));
    const first = p.canonicalSolutions[0];
    if (first === undefined) withoutCanonical++;
    else lengths.push(first.length);
    bump(languages, p.language);
    bump(difficulties, p.difficulty ?? '(none)');
    bump(testKinds, p.tests.kind);
  }
  return {
    count,
    testsPerProblem: distribution(tests),
    canonicalLength: distribution(lengths),
    withoutCanonical,
    languages,
    difficulties,
    testKinds,
  };
}

/** `datasetStats` over a stream (collects the problems first). */
export async function datasetStatsOf(stream: AsyncIterable<Problem>): Promise<DatasetStats> {
  const all: Problem[] = [];
  for await (const p of stream) all.push(p);
  return datasetStats(all);
}
