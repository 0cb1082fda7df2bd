import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import type { Problem } from '@stepcoder/core';

/** 1-based line numbers of split points (each point must be a line start). */
export function lineNumbers(source: string, points: readonly number[]): number[] {
  return points.map((p) => {
    if (p !== 0 && source[p - 1] !== '\n' && source[p - 1] !== '\r') {
      throw new Error(`point ${p} is not at a line start`);
    }
    return source.slice(0, p).split(/\r\n|\r|\n/).length;
  });
}

export interface HumanEvalRow {
  task_id: string;
  prompt: string;
  canonical_solution: string;
  test: string;
  entry_point: string;
}

export function loadHumanEval(): HumanEvalRow[] {
  const gz = readFileSync(new URL('./fixtures/HumanEval.jsonl.gz', import.meta.url));
  return gunzipSync(gz)
    .toString('utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as HumanEvalRow);
}

/** A HumanEval row as a Problem the way a loader builds it: program = prompt + solution. */
export function humanEvalProblem(row: HumanEvalRow): Problem {
  return {
    id: row.task_id,
    prompt: row.prompt,
    language: 'python',
    canonicalSolutions: [row.prompt + row.canonical_solution],
    starterCode: row.prompt,
    tests: { kind: 'assert', cases: [row.test], entryPoint: row.entry_point },
  };
}

export interface AppsPlusRow {
  id: number;
  prompt: string;
  canonical_solution: string;
  starter_code: string;
  scope: Array<[string, number, number]>;
  difficulty: string;
}

export function loadAppsPlus(): Array<AppsPlusRow & { file: string }> {
  return ['train.json', 'valid.json'].flatMap((file) => {
    const rows = JSON.parse(
      readFileSync(new URL(`./fixtures/apps-plus-sample/${file}`, import.meta.url), 'utf8'),
    ) as AppsPlusRow[];
    return rows.map((r) => ({ ...r, file }));
  });
}

/** A minimal Problem around a program, for splitter and schedule tests. */
export function problemOf(
  id: string,
  program: string,
  language: Problem['language'] = 'python',
  starterCode?: string,
): Problem {
  return {
    id,
    prompt: `Solve problem ${id}.`,
    language,
    canonicalSolutions: [program],
    ...(starterCode !== undefined ? { starterCode } : {}),
    tests: { kind: 'assert', cases: [] },
  };
}
