/**
 * Interpreter the tests run against: `python3`, or another one for a compatibility run, e.g.
 * `STEPCODER_TEST_PYTHON=/usr/bin/python3.12 pnpm test`.
 */
export const PYTHON: string = process.env.STEPCODER_TEST_PYTHON ?? 'python3';
