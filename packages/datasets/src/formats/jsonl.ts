import { z } from 'zod';
import { jsonRows } from '../io/rows.js';
import { commonOptionsSchema } from '../options.js';
import type { RowLocation } from '../pipeline.js';
import { asObject, describe, rowError } from '../row-error.js';

import { buildTests, listField } from './apps-shared.js';
import { defineLoader } from './define.js';

const path = z.string().min(1);

const testsMappingSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('stdio'), inputs: path, outputs: path }).strict(),
  z
    .object({
      kind: z.literal('call'),
      fnName: path,
      className: path.optional(),
      inputs: path,
      outputs: path,
    })
    .strict(),
  z
    .object({ kind: z.literal('assert'), cases: path, setup: path.optional(), entryPoint: path.optional() })
    .strict(),
]);

export const jsonlOptionsSchema = commonOptionsSchema
  .extend({
    /** Dataset name written to `Problem.source.dataset`. */
    dataset: z.string().min(1).default('jsonl'),
    /**
     * Without `fields`, every row is a Problem in this project's own JSON shape. With `fields`,
     * each Problem field is read from a dotted path of the row.
     */
    fields: z
      .object({
        id: path.optional(),
        prompt: path,
        /** A string or a list of strings. */
        canonicalSolutions: path.optional(),
        starterCode: path.optional(),
        difficulty: path.optional(),
        /** Read per row; otherwise `language`. */
        language: path.optional(),
        tests: testsMappingSchema,
      })
      .strict()
      .optional(),
    language: z.enum(['python', 'javascript', 'typescript']).default('python'),
  })
  .strict();

export type JsonlOptions = z.input<typeof jsonlOptionsSchema>;
type Resolved = z.output<typeof jsonlOptionsSchema>;

function get(row: Record<string, unknown>, dotted: string): unknown {
  let cur: unknown = row;
  for (const key of dotted.split('.')) {
    if (typeof cur !== 'object' || cur === null) return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
}

function str(row: Record<string, unknown>, dotted: string, required: boolean): string | undefined {
  const v = get(row, dotted);
  if (v === undefined || v === null) {
    if (required) rowError(dotted, 'missing required field');
    return undefined;
  }
  if (typeof v === 'number' && dotted !== 'prompt') return String(v);
  if (typeof v !== 'string') rowError(dotted, `expected a string, found ${describe(v)}`);
  return v;
}

function mapFields(row: Record<string, unknown>, at: RowLocation, opts: Resolved) {
  const f = opts.fields!;
  const t = f.tests;
  let tests: unknown;
  if (t.kind === 'assert') {
    const cases = get(row, t.cases);
    tests = {
      kind: 'assert',
      cases: typeof cases === 'string' ? [cases] : listField(cases, t.cases),
      ...(t.setup && str(row, t.setup, false) ? { setup: str(row, t.setup, false) } : {}),
      ...(t.entryPoint && str(row, t.entryPoint, false) ? { entryPoint: str(row, t.entryPoint, false) } : {}),
    };
  } else {
    tests = buildTests({
      inputs: listField(get(row, t.inputs), t.inputs),
      outputs: listField(get(row, t.outputs), t.outputs),
      fnName: t.kind === 'call' ? str(row, t.fnName, true) : undefined,
      className: t.kind === 'call' && t.className ? str(row, t.className, false) : undefined,
      literals: false,
    });
  }
  let canonical: string[] = [];
  if (f.canonicalSolutions) {
    const c = get(row, f.canonicalSolutions);
    if (typeof c === 'string') canonical = [c];
    else if (c !== undefined && c !== null) canonical = listField(c, f.canonicalSolutions) as string[];
  }
  return {
    id: (f.id ? str(row, f.id, true) : undefined) ?? `${opts.dataset}/${at.row}`,
    prompt: str(row, f.prompt, true),
    language: (f.language ? str(row, f.language, false) : undefined) ?? opts.language,
    canonicalSolutions: canonical,
    starterCode: f.starterCode ? str(row, f.starterCode, false) : undefined,
    tests,
    difficulty: f.difficulty ? str(row, f.difficulty, false) : undefined,
    source: { dataset: opts.dataset, file: at.file, row: at.row },
  };
}

/** Generic JSON Lines (or JSON array) loader: Problem JSON per row, or a field mapping. */
export const createJsonlLoader = defineLoader('jsonl', jsonlOptionsSchema, (opts) => ({
  rows: (p) => jsonRows(p),
  map: (value, at) => {
    const row = asObject(value);
    if (opts.fields) return mapFields(row, at, opts);
    return { ...row, source: row.source ?? { dataset: opts.dataset, file: at.file, row: at.row } };
  },
}));
