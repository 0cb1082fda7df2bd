import { type DatasetLoader, registry, type StandardSchemaV1 } from '@stepcoder/core';
import type { z } from 'zod';
import { appsOptionsSchema, createAppsLoader } from './formats/apps.js';
import { appsPlusOptionsSchema, createAppsPlusLoader } from './formats/apps-plus.js';
import { createHumanEvalLoader, humanEvalOptionsSchema } from './formats/humaneval.js';
import {
  createHumanEvalXJsLoader,
  createMultiPLEJsLoader,
  jsBenchmarkOptionsSchema,
} from './formats/js-benchmarks.js';
import { createJsonlLoader, jsonlOptionsSchema } from './formats/jsonl.js';
import { createMbppLoader, mbppOptionsSchema } from './formats/mbpp.js';
import { createSyntheticLoader, syntheticOptionsSchema } from './synthetic/loader.js';

export * from './base.js';
export * from './synthetic/index.js';

declare module '@stepcoder/core' {
  interface PluginOptions {
    'dataset:apps-plus': z.input<typeof appsPlusOptionsSchema>;
    'dataset:apps': z.input<typeof appsOptionsSchema>;
    'dataset:mbpp': z.input<typeof mbppOptionsSchema>;
    'dataset:humaneval': z.input<typeof humanEvalOptionsSchema>;
    'dataset:humaneval-x-js': z.input<typeof jsBenchmarkOptionsSchema>;
    'dataset:multipl-e-js': z.input<typeof jsBenchmarkOptionsSchema>;
    'dataset:jsonl': z.input<typeof jsonlOptionsSchema>;
    'dataset:synthetic': z.input<typeof syntheticOptionsSchema>;
  }
}

// The registry validates options against the schema before calling the factory; the factory
// validates again (cheap, idempotent) so that direct `createXxxLoader` calls get the same checks.
function add(
  name: string,
  factory: (options: never) => DatasetLoader,
  schema: StandardSchemaV1,
  description: string,
) {
  if (registry.has('dataset', name)) return;
  registry.register('dataset', name, (options: unknown) => factory(options as never), {
    schema,
    description,
  });
}

add('apps-plus', createAppsPlusLoader, appsPlusOptionsSchema, 'APPS+ JSON array (streamed) or JSONL');
add('apps', createAppsLoader, appsOptionsSchema, 'original APPS folder-per-problem layout');
add('mbpp', createMbppLoader, mbppOptionsSchema, 'MBPP JSON Lines');
add('humaneval', createHumanEvalLoader, humanEvalOptionsSchema, 'OpenAI HumanEval JSON Lines (.gz ok)');
add(
  'humaneval-x-js',
  createHumanEvalXJsLoader,
  jsBenchmarkOptionsSchema,
  'HumanEval-X JavaScript JSON Lines',
);
add('multipl-e-js', createMultiPLEJsLoader, jsBenchmarkOptionsSchema, 'MultiPL-E JavaScript JSON Lines');
add('jsonl', createJsonlLoader, jsonlOptionsSchema, 'Problem JSON per line, or a field mapping');
add(
  'synthetic',
  createSyntheticLoader,
  syntheticOptionsSchema,
  'procedural problems (15 families, held-out combinations); the path is ignored',
);
