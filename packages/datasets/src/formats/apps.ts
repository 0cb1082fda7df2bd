import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { StepcoderError } from '@stepcoder/core';
import { z } from 'zod';
import { APPS_IMPORT_HEADER, commonOptionsSchema } from '../options.js';
import type { RawRow } from '../pipeline.js';
import { mapAppsStyle } from './apps-plus.js';
import { fileStem } from './apps-shared.js';
import { defineLoader } from './define.js';

export const appsOptionsSchema = commonOptionsSchema
  .extend({ importHeader: z.string().default(APPS_IMPORT_HEADER) })
  .strict();

export type AppsOptions = z.input<typeof appsOptionsSchema>;

async function readOptional(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** A JSON file of a problem folder: missing → undefined, unparsable → a row error for that file. */
function parseJsonFile(text: string | undefined, name: string): { value?: unknown; error?: RawRow['error'] } {
  if (text === undefined) return {};
  try {
    return { value: JSON.parse(text) };
  } catch (err) {
    return { error: { field: name, message: `invalid JSON: ${(err as Error).message}` } };
  }
}

/**
 * Original APPS layout: `<split>/<problem>/{question.txt, solutions.json, input_output.json,
 * metadata.json, starter_code.py}`, one folder per problem, read in name order. Each folder is one
 * row, named by the folder (RowIssue.row is the folder name, file the folder path).
 */
async function* appsRows(root: string): AsyncGenerator<RawRow> {
  let entries: string[];
  try {
    entries = (await readdir(root, { withFileTypes: true }))
      .filter((d) => d.isDirectory())
      .map((d) => d.name)
      .sort();
  } catch (err) {
    throw new StepcoderError('DATASET_IO', `Cannot read APPS folder ${root}: ${(err as Error).message}`, {
      cause: err,
      details: { file: root },
    });
  }
  for (const name of entries) {
    const dir = join(root, name);
    const [question, solutions, io, metadata, starter] = await Promise.all([
      readOptional(join(dir, 'question.txt')),
      readOptional(join(dir, 'solutions.json')),
      readOptional(join(dir, 'input_output.json')),
      readOptional(join(dir, 'metadata.json')),
      readOptional(join(dir, 'starter_code.py')),
    ]);
    const sol = parseJsonFile(solutions, 'solutions.json');
    const ioj = parseJsonFile(io, 'input_output.json');
    const meta = parseJsonFile(metadata, 'metadata.json');
    const error = sol.error ?? ioj.error ?? meta.error;
    if (error) {
      yield { file: dir, row: name, error };
      continue;
    }
    if (question === undefined) {
      yield { file: dir, row: name, error: { field: 'question.txt', message: 'missing file' } };
      continue;
    }
    if (io === undefined) {
      yield { file: dir, row: name, error: { field: 'input_output.json', message: 'missing file' } };
      continue;
    }
    const m = (meta.value ?? {}) as Record<string, unknown>;
    yield {
      file: dir,
      row: name,
      value: {
        question,
        solutions: sol.value,
        input_output: ioj.value,
        starter_code: starter,
        difficulty: m.difficulty,
        url: m.url,
      },
    };
  }
}

export const createAppsLoader = defineLoader('apps', appsOptionsSchema, (opts) => ({
  rows: (path) => appsRows(path),
  map: (value, at) => {
    const v = value as Record<string, unknown>;
    const dir = at.file.split(/[\\/]/);
    const split = dir.length >= 2 ? fileStem(dir.slice(0, -1).join('/')) : 'apps';
    return mapAppsStyle(
      {
        question: v.question,
        solutions: v.solutions,
        inputOutput: v.input_output,
        starterCode: v.starter_code,
        difficulty: v.difficulty,
        url: v.url,
      },
      `${split}/${at.row}`,
      at,
      'apps',
      opts.importHeader,
      false,
    );
  },
}));
