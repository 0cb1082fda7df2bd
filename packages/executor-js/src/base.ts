export type { CoverageCounters, FileCoverageData, InstrumentedProgram } from './coverage.js';
export {
  COVERAGE_PATH,
  COVERAGE_VARIABLE,
  CoverageAccumulator,
  instrument,
  LruCache,
  toCoverage,
} from './coverage.js';
export type { JsExecutor, JsExecutorStats } from './executor.js';
export { createJsExecutor } from './executor.js';
export { HARNESS_SOURCE } from './harness-source.js';
export type { JsExecutorOptions, ResolvedJsExecutorOptions } from './options.js';
export { jsExecutorOptionsSchema } from './options.js';
export type { IsolatePoolOptions } from './pool.js';
export { IsolatePool, liveIsolateCount, PooledIsolate } from './pool.js';
export { ProcessHosts } from './process-hosts.js';
export { decodeValue } from './request.js';
export type { PositionMapper, PreparedSource } from './transpile.js';
export { decodeMappings, prepareSource } from './transpile.js';

import type { JsExecutorOptions } from './options.js';

declare module '@stepcoder/core' {
  interface PluginOptions {
    'executor:js': JsExecutorOptions;
  }
}
