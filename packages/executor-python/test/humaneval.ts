import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import type { ExecutionRequest } from '@stepcoder/core';

export interface HumanEvalProblem {
  task_id: string;
  prompt: string;
  canonical_solution: string;
  test: string;
  entry_point: string;
}

/** The 164 HumanEval problems from the fixture (MIT, see test/fixtures/humaneval/LICENSE). */
export function loadHumanEval(): HumanEvalProblem[] {
  const path = new URL('./fixtures/humaneval/HumanEval.jsonl.gz', import.meta.url);
  return gunzipSync(readFileSync(path))
    .toString('utf8')
    .split('\n')
    .filter((line) => line.trim())
    .map((line) => JSON.parse(line) as HumanEvalProblem);
}

/** HumanEval as an assertion test: the program is prompt + body, the case runs `check`. */
export function humanEvalRequest(p: HumanEvalProblem, body = p.canonical_solution): ExecutionRequest {
  return {
    program: p.prompt + body,
    tests: { kind: 'assert', cases: [`${p.test}\ncheck(${p.entry_point})`], entryPoint: p.entry_point },
  };
}
