import type { ExecutionRequest } from '@stepcoder/core';

/** Prints `n`; with `wrong` it prints another number, so the verdict says which sample it was. */
export function echo(n: number, wrong = false): ExecutionRequest {
  return {
    language: 'javascript',
    program: `console.log(${wrong ? n + 1000 : n})`,
    tests: { kind: 'stdio', cases: [{ input: '', output: `${n}\n` }] },
  };
}

/** Keeps its worker busy for `ms` of CPU, then passes. */
export function busy(ms: number, tag = ''): ExecutionRequest {
  return {
    language: 'javascript',
    program: `// ${tag}\nconst t = Date.now(); while (Date.now() - t < ${ms}) {}\nconsole.log('done')`,
    tests: { kind: 'stdio', cases: [{ input: '', output: 'done\n' }] },
    limits: { timeoutMs: ms + 4000, totalTimeoutMs: ms + 8000 },
  };
}
