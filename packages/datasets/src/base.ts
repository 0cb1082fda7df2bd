export type { AppsOptions } from './formats/apps.js';
export { appsOptionsSchema, createAppsLoader } from './formats/apps.js';
export type { AppsPlusOptions } from './formats/apps-plus.js';
export { appsPlusOptionsSchema, createAppsPlusLoader } from './formats/apps-plus.js';
export type { Signature } from './formats/apps-shared.js';
export { findSignature } from './formats/apps-shared.js';
export type { LoaderParts, StepcoderDatasetLoader } from './formats/define.js';
export { defineLoader } from './formats/define.js';
export { createHumanEvalLoader, humanEvalOptionsSchema } from './formats/humaneval.js';
export {
  createHumanEvalXJsLoader,
  createMultiPLEJsLoader,
  INLINE_NODE_ASSERT,
  jsBenchmarkOptionsSchema,
} from './formats/js-benchmarks.js';
export type { JsonlOptions } from './formats/jsonl.js';
export { createJsonlLoader, jsonlOptionsSchema } from './formats/jsonl.js';
export type { MbppOptions } from './formats/mbpp.js';
export { createMbppLoader, mbppOptionsSchema } from './formats/mbpp.js';
export type { ArrayElement } from './io/json-array.js';
export { readJsonArray, splitJsonArray } from './io/json-array.js';
export type { Line } from './io/open.js';
export { isGzipPath, openBytes, readLines } from './io/open.js';
export { isJsonLinesPath, jsonArrayRows, jsonLinesRows, jsonRows } from './io/rows.js';
export { loadMini, miniDatasetPath } from './mini.js';
export type { CommonOptions, CommonOptionsInput } from './options.js';
export { APPS_IMPORT_HEADER, commonOptionsSchema } from './options.js';
export type {
  DatasetStream,
  DatasetSummary,
  RawRow,
  RowLocation,
  RowMapper,
  StreamSpec,
} from './pipeline.js';
export { createProblemStream, formatSummary } from './pipeline.js';
export { PythonLiteralError, parsePythonLiteral, tryParsePythonLiteral } from './python-literal.js';
export { datasetRowError, RowError } from './row-error.js';
export type { DatasetStats, Distribution } from './stats.js';
export { datasetStats, datasetStatsOf } from './stats.js';
