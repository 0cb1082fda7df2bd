import { z } from 'zod';
import { jsonRows } from '../io/rows.js';
import { commonOptionsSchema } from '../options.js';
import { asObject, describe, optString, reqString, rowError, stringArray } from '../row-error.js';
import { defineLoader } from './define.js';

export const mbppOptionsSchema = commonOptionsSchema
  .extend({
    /** Also run `challenge_test_list` (harder hidden tests of the original release). */
    includeChallengeTests: z.boolean().default(false),
    /**
     * Append the tests to the prompt as in the MBPP paper ("Your code should pass these tests:"),
     * which is how the model learns the function name.
     */
    testsInPrompt: z.boolean().default(true),
  })
  .strict();

export type MbppOptions = z.input<typeof mbppOptionsSchema>;

/**
 * MBPP JSON Lines: task_id, text, code, test_list, test_setup_code, challenge_test_list. The
 * sanitized release's names (prompt, test_imports) are accepted too.
 */
export const createMbppLoader = defineLoader('mbpp', mbppOptionsSchema, (opts) => ({
  rows: (path) => jsonRows(path),
  map: (value, at) => {
    const row = asObject(value);
    const textField = row.text !== undefined ? 'text' : 'prompt';
    const text = reqString(row, textField);
    const code = reqString(row, 'code');
    if (row.test_list === undefined) rowError('test_list', 'missing required field');
    const tests = stringArray(row.test_list, 'test_list');
    if (tests.length === 0) rowError('test_list', 'no test cases');
    const challenge =
      row.challenge_test_list === undefined || row.challenge_test_list === null
        ? []
        : stringArray(row.challenge_test_list, 'challenge_test_list');
    const setupParts = [optString(row, 'test_setup_code') ?? ''];
    if (row.test_imports !== undefined) setupParts.unshift(...stringArray(row.test_imports, 'test_imports'));
    const setup = setupParts.filter((s) => s.trim() !== '').join('\n');
    const taskId = row.task_id;
    if (taskId !== undefined && typeof taskId !== 'number' && typeof taskId !== 'string') {
      rowError('task_id', `expected a number or string, found ${describe(taskId)}`);
    }
    const entry =
      /^\s*assert\s+(?:not\s+)?\(?\s*(?:set\(|sorted\(|math\.isclose\()?\s*([A-Za-z_]\w*)\s*\(/.exec(
        tests[0]!,
      );
    return {
      id: `mbpp/${taskId ?? at.row}`,
      prompt: opts.testsInPrompt
        ? `${text}\nYour code should pass these tests:\n\n${tests.join('\n')}\n`
        : text,
      language: 'python',
      canonicalSolutions: [code.replace(/\r\n/g, '\n')],
      tests: {
        kind: 'assert',
        cases: opts.includeChallengeTests ? [...tests, ...challenge] : tests,
        ...(setup ? { setup } : {}),
        ...(entry ? { entryPoint: entry[1] } : {}),
      },
      source: { dataset: 'mbpp', file: at.file, row: at.row },
    };
  },
}));
