import { type Problem, validate } from '@stepcoder/core';
import { z } from 'zod';
import type { StepcoderDatasetLoader } from '../formats/define.js';
import { type CommonOptions, commonOptionsSchema } from '../options.js';
import { createProblemStream, type DatasetStream, type RawRow } from '../pipeline.js';
import { generateSyntheticSuite, syntheticSuiteOptionsSchema } from './generate.js';

export const SYNTHETIC_PARTS = ['train', 'test', 'heldout', 'all'] as const;
export type SyntheticPart = (typeof SYNTHETIC_PARTS)[number];

/**
 * Options of the `synthetic` dataset: the generator's options, which part to yield, and the
 * common loader options (filter, shuffle, limit, test caps…). Its own `split` key is the common
 * id-hash split; the train / held-out split of combinations is `part`.
 */
export const syntheticOptionsSchema = commonOptionsSchema
  .extend(syntheticSuiteOptionsSchema.shape)
  .extend({
    language: syntheticSuiteOptionsSchema.shape.language.default('python'),
    part: z.enum(SYNTHETIC_PARTS).default('all'),
  })
  .strict();

export type SyntheticOptions = z.input<typeof syntheticOptionsSchema>;

/** The problems of a part, train, test then held-out for `all`; `meta.split` says which is which. */
export function syntheticProblems(
  options: z.output<typeof syntheticSuiteOptionsSchema> & { part: SyntheticPart },
): Problem[] {
  const { language, seed, count, heldoutFraction, testFraction, splitSeed, families } = options;
  const suite = generateSyntheticSuite({
    language,
    seed,
    count,
    heldoutFraction,
    testFraction,
    splitSeed,
    families,
  });
  if (options.part === 'train') return suite.train;
  if (options.part === 'test') return suite.test;
  if (options.part === 'heldout') return suite.heldout;
  return [...suite.train, ...suite.test, ...suite.heldout];
}

/**
 * The procedural suite as a dataset loader. `load(path)` ignores `path` (pass `''`): the problems
 * are generated, not read. Generation runs when the stream is first iterated.
 */
export function createSyntheticLoader(options?: SyntheticOptions): StepcoderDatasetLoader {
  const opts = validate(syntheticOptionsSchema, options ?? {}, "options of dataset 'synthetic'");
  return {
    specificationVersion: 'v1',
    name: 'synthetic',
    load(_path: string): DatasetStream {
      async function* rows(): AsyncGenerator<RawRow> {
        const problems = syntheticProblems(opts);
        for (const [i, value] of problems.entries()) yield { file: 'synthetic', row: i + 1, value };
      }
      return createProblemStream({
        dataset: 'synthetic',
        rows,
        map: (value) => value,
        options: opts as unknown as CommonOptions,
      });
    },
  };
}
