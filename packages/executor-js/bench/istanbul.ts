import libInstrument from 'istanbul-lib-instrument';
import { COVERAGE_PATH, COVERAGE_VARIABLE } from '../src/index.js';

const istanbul = libInstrument.createInstrumenter({
  coverageVariable: COVERAGE_VARIABLE,
  esModules: false,
  compact: true,
  preserveComments: false,
  produceSourceMap: false,
});

/** What executor-js did per new program before instrument.ts: an istanbul-lib-instrument pass. */
export function istanbulInstrument(code: string): void {
  istanbul.instrumentSync(code, COVERAGE_PATH);
}
