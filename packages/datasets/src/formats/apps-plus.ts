import { z } from 'zod';
import { jsonRows } from '../io/rows.js';
import { APPS_IMPORT_HEADER, commonOptionsSchema } from '../options.js';
import type { RowLocation } from '../pipeline.js';
import { parsePythonLiteral } from '../python-literal.js';
import { asObject, describe, optDifficulty, optString, reqString, rowError } from '../row-error.js';
import { buildTests, fileStem, findSignature, listField } from './apps-shared.js';
import { defineLoader } from './define.js';

export const appsPlusOptionsSchema = commonOptionsSchema
  .extend({
    /** Prepended to every program by the harness (`Problem.harness.preamble`). */
    importHeader: z.string().default(APPS_IMPORT_HEADER),
    /**
     * Decode string call arguments / expected values as Python literals. `auto`: yes for APPS+
     * field names (prompt, inputs, outputs), no for APPS field names (input_output), whose values
     * are plain JSON.
     */
    literals: z.enum(['auto', 'always', 'never']).default('auto'),
  })
  .strict();

export type AppsPlusOptions = z.input<typeof appsPlusOptionsSchema>;
type Resolved = z.output<typeof appsPlusOptionsSchema>;

function idOf(row: Record<string, unknown>, at: RowLocation): string {
  const raw = row.id ?? row.problem_id ?? row.task_id;
  const id = typeof raw === 'string' || typeof raw === 'number' ? String(raw) : String(at.row);
  return `${fileStem(at.file)}/${id}`;
}

function parseScope(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  try {
    return parsePythonLiteral(value);
  } catch {
    rowError('scope', 'expected a list of [kind, start, end] (or its Python-literal string)');
  }
}

/** APPS+ as released with StepCoder: prompt, canonical_solution, inputs, outputs, starter_code… */
function mapAppsPlus(row: Record<string, unknown>, at: RowLocation, opts: Resolved) {
  const prompt = reqString(row, 'prompt');
  const canonical = reqString(row, 'canonical_solution');
  const starterCode = optString(row, 'starter_code');
  const inputs = listField(row.inputs, 'inputs');
  const outputs = listField(row.outputs, 'outputs');
  const sig = findSignature(starterCode ?? '') ?? findSignature(canonical);
  // A zero-argument function is a stdin/stdout program wrapped in a function: the harness calls it.
  const stdio = !sig?.fnName || (sig.params === 0 && !sig.className);
  const tests = buildTests({
    inputs,
    outputs,
    fnName: stdio ? undefined : sig?.fnName,
    className: sig?.className,
    literals: opts.literals !== 'never',
  });
  const meta: Record<string, unknown> = {};
  if (row.scope !== undefined) meta.scope = parseScope(row.scope);
  return {
    id: idOf(row, at),
    prompt,
    language: 'python',
    canonicalSolutions: [canonical],
    ...(starterCode ? { starterCode } : {}),
    tests,
    difficulty: optDifficulty(row, 'difficulty'),
    harness: {
      preamble: opts.importHeader,
      ...(stdio && sig?.fnName ? { epilogue: `\n${sig.fnName}()\n` } : {}),
    },
    source: { dataset: 'apps-plus', file: at.file, row: at.row },
    meta,
  };
}

export interface AppsStyleFields {
  question: unknown;
  solutions: unknown;
  inputOutput: unknown;
  starterCode: unknown;
  difficulty: unknown;
  url?: unknown;
}

/**
 * APPS field layout (also the APPS+ v1 names): question, solutions (list or JSON string),
 * input_output ({inputs, outputs, fn_name?}, object or JSON string), starter_code, difficulty.
 */
export function mapAppsStyle(
  f: AppsStyleFields,
  id: string,
  at: RowLocation,
  dataset: string,
  importHeader: string,
  literals: boolean,
) {
  if (f.question === undefined) rowError('question', 'missing required field');
  if (typeof f.question !== 'string')
    rowError('question', `expected a string, found ${describe(f.question)}`);
  const solutions =
    f.solutions === undefined || f.solutions === null || f.solutions === ''
      ? []
      : listField(f.solutions, 'solutions');
  solutions.forEach((s, i) => {
    if (typeof s !== 'string') rowError(`solutions[${i}]`, `expected a string, found ${describe(s)}`);
  });
  let io = f.inputOutput;
  if (io === undefined || io === null || io === '') rowError('input_output', 'missing required field');
  if (typeof io === 'string') {
    try {
      io = JSON.parse(io);
    } catch (err) {
      rowError('input_output', `invalid JSON: ${(err as Error).message}`);
    }
  }
  const ioObj = asObject(io, 'input_output');
  const fnName = ioObj.fn_name;
  if (fnName !== undefined && (typeof fnName !== 'string' || fnName === '')) {
    rowError('input_output.fn_name', `expected a non-empty string, found ${describe(fnName)}`);
  }
  if (f.starterCode !== undefined && f.starterCode !== null && typeof f.starterCode !== 'string') {
    rowError('starter_code', `expected a string, found ${describe(f.starterCode)}`);
  }
  const starterCode = typeof f.starterCode === 'string' && f.starterCode !== '' ? f.starterCode : undefined;
  const sig = starterCode ? findSignature(starterCode) : undefined;
  const tests = buildTests({
    inputs: listField(ioObj.inputs, 'input_output.inputs'),
    outputs: listField(ioObj.outputs, 'input_output.outputs'),
    fnName: fnName as string | undefined,
    className: fnName !== undefined && sig?.className && sig.fnName === fnName ? sig.className : undefined,
    literals,
  });
  let difficulty: string | undefined;
  if (typeof f.difficulty === 'string' && f.difficulty !== '') difficulty = f.difficulty;
  else if (typeof f.difficulty === 'number') difficulty = String(f.difficulty);
  else if (f.difficulty !== undefined && f.difficulty !== null) {
    rowError('difficulty', `expected a string, found ${describe(f.difficulty)}`);
  }
  return {
    id,
    prompt: f.question,
    language: 'python',
    canonicalSolutions: solutions as string[],
    ...(starterCode ? { starterCode } : {}),
    tests,
    difficulty,
    harness: { preamble: importHeader },
    source: { dataset, file: at.file, row: at.row },
    ...(typeof f.url === 'string' ? { meta: { url: f.url } } : {}),
  };
}

export function mapAppsPlusRow(value: unknown, at: RowLocation, opts: Resolved) {
  const row = asObject(value);
  const appsStyle =
    row.prompt === undefined && (row.question !== undefined || row.input_output !== undefined);
  if (!appsStyle) return mapAppsPlus(row, at, opts);
  return mapAppsStyle(
    {
      question: row.question,
      solutions: row.solutions,
      inputOutput: row.input_output,
      starterCode: row.starter_code,
      difficulty: row.difficulty,
      url: row.url,
    },
    idOf(row, at),
    at,
    'apps-plus',
    opts.importHeader,
    opts.literals === 'always',
  );
}

/** Loader of APPS+ files: a JSON array (streamed element by element) or JSON Lines, gzip by extension. */
export const createAppsPlusLoader = defineLoader('apps-plus', appsPlusOptionsSchema, (opts) => ({
  rows: (path) => jsonRows(path),
  map: (value, at) => mapAppsPlusRow(value, at, opts),
}));
