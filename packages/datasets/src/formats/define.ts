import { type DatasetLoader, validate } from '@stepcoder/core';
import type { z } from 'zod';
import type { CommonOptions } from '../options.js';
import { createProblemStream, type DatasetStream, type RawRow, type RowMapper } from '../pipeline.js';

/** A core DatasetLoader whose streams carry the extended summary and `toArray()`. */
export interface StepcoderDatasetLoader extends DatasetLoader {
  load(path: string): DatasetStream;
}

export interface LoaderParts {
  rows: (path: string) => AsyncIterable<RawRow>;
  map: RowMapper;
}

/**
 * Builds a loader factory: options are validated once at creation (errors name the option path),
 * then every `load(path)` is a fresh lazy stream.
 */
export function defineLoader<S extends z.ZodType>(
  name: string,
  schema: S,
  build: (options: z.output<S>) => LoaderParts,
): (options?: z.input<S>) => StepcoderDatasetLoader {
  return (options) => {
    const opts = validate(schema, options ?? {}, `options of dataset '${name}'`) as z.output<S>;
    const parts = build(opts);
    return {
      specificationVersion: 'v1',
      name,
      load(path: string): DatasetStream {
        return createProblemStream({
          dataset: name,
          rows: () => parts.rows(path),
          map: parts.map,
          options: opts as unknown as CommonOptions,
        });
      },
    };
  };
}
