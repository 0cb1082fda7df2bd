import { jsonRows } from '../io/rows.js';
import { commonOptionsSchema } from '../options.js';
import { asObject, reqString } from '../row-error.js';
import { defineLoader } from './define.js';

export const humanEvalOptionsSchema = commonOptionsSchema.strict();

/**
 * OpenAI HumanEval JSON Lines (`.jsonl` or `.jsonl.gz`): task_id, prompt, canonical_solution, test,
 * entry_point. The program is prompt + canonical_solution (the prompt is the signature and
 * docstring, so it is also the starter code); the single assert case is the dataset's `check`
 * function followed by `check(entry_point)`, exactly as human-eval's harness runs it.
 */
export const createHumanEvalLoader = defineLoader('humaneval', humanEvalOptionsSchema, () => ({
  rows: (path) => jsonRows(path),
  map: (value, at) => {
    const row = asObject(value);
    const taskId = reqString(row, 'task_id');
    const prompt = reqString(row, 'prompt');
    const solution = reqString(row, 'canonical_solution');
    const test = reqString(row, 'test');
    const entryPoint = reqString(row, 'entry_point');
    return {
      id: taskId,
      prompt,
      language: 'python',
      canonicalSolutions: [prompt + solution],
      starterCode: prompt,
      tests: { kind: 'assert', cases: [`${test}\ncheck(${entryPoint})\n`], entryPoint },
      source: { dataset: 'humaneval', file: at.file, row: at.row },
    };
  },
}));
