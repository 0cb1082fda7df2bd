import type { TestSuite } from '@stepcoder/core';
import type { Draft, ParamType, ResultType } from './family.js';
import type { Value } from './program.js';
import { renderFunction } from './render.js';

export type SyntheticLanguage = 'python' | 'javascript';
export const TEST_FORMS = ['call', 'assert', 'stdio'] as const;
export type TestForm = (typeof TEST_FORMS)[number];

/** A value as a literal, the same text in both languages (strings are letters only). */
export function literal(v: Value): string {
  if (typeof v === 'number') return String(v);
  if (typeof v === 'string') return `'${v}'`;
  return `[${v.map(literal).join(', ')}]`;
}

function isList(result: ResultType): boolean {
  return result === 'ints' || result === 'strs';
}

/** `assert f([1, 2]) == 3` / `if (f([1, 2]) !== 3) throw new Error('case 1');` (lists via JSON). */
function assertCase(args: Value[], expected: Value, lang: SyntheticLanguage, i: number): string {
  const call = `f(${args.map(literal).join(', ')})`;
  if (lang === 'python') return `assert ${call} == ${literal(expected)}`;
  const fail = `throw new Error('case ${i + 1}');`;
  if (Array.isArray(expected)) {
    return `if (JSON.stringify(${call}) !== JSON.stringify(${literal(expected)})) ${fail}`;
  }
  return `if (${call} !== ${literal(expected)}) ${fail}`;
}

const PY_READ: Record<ParamType, (name: string) => string> = {
  int: (n) => `${n} = int(input())`,
  ints: (n) => `${n} = list(map(int, input().split()))`,
  str: (n) => `${n} = input()`,
};

const JS_READ: Record<ParamType, (name: string, line: number) => string> = {
  int: (n, i) => `const ${n} = Number(lines[${i}]);`,
  ints: (n, i) => `const ${n} = lines[${i}].split(' ').filter((v) => v !== '').map(Number);`,
  str: (n, i) => `const ${n} = lines[${i}];`,
};

/** The lines after the function of a stdio program: read one parameter per line, print the result. */
function stdioMain(draft: Draft, lang: SyntheticLanguage): string {
  const params = draft.fn.params;
  const call = `f(${params.join(', ')})`;
  if (lang === 'python') {
    const reads = params.map((p, i) => PY_READ[draft.paramTypes[i]!](p));
    return [...reads, isList(draft.result) ? `print(*${call})` : `print(${call})`].join('\n');
  }
  const reads = params.map((p, i) => JS_READ[draft.paramTypes[i]!](p, i));
  return [
    "const lines = require('fs').readFileSync(0, 'utf8').split('\\n');",
    ...reads,
    isList(draft.result) ? `console.log(${call}.join(' '))` + ';' : `console.log(${call});`,
  ].join('\n');
}

function stdioText(v: Value): string {
  return Array.isArray(v) ? v.join(' ') : String(v);
}

export interface RenderedProblem {
  program: string;
  tests: TestSuite;
}

/**
 * The statement: "Write a function f(xs) that …." plus, for stdio problems, how to read the
 * parameters and what to print.
 */
export function statement(draft: Draft, form: TestForm): string {
  const params = draft.fn.params.join(', ');
  const gap = draft.task.startsWith(',') ? '' : ' ';
  const head = `Write a function f(${params}) that${gap}${draft.task}.`;
  if (form !== 'stdio') return head;
  const perLine = draft.fn.params.length > 1 ? ', one per line,' : '';
  const spaced = isList(draft.result) ? ' space-separated' : '';
  return `${head} Read ${params} from stdin${perLine} and print f(${params})${spaced}.`;
}

/** The canonical program and tests of a draft in one language and test form. */
export function renderTests(
  draft: Draft,
  outputs: Value[],
  form: TestForm,
  lang: SyntheticLanguage,
): RenderedProblem {
  const fn = renderFunction(draft.fn, lang);
  switch (form) {
    case 'call':
      return {
        program: fn,
        tests: { kind: 'call', fnName: 'f', inputs: draft.inputs, outputs },
      };
    case 'assert':
      return {
        program: fn,
        tests: {
          kind: 'assert',
          cases: draft.inputs.map((args, i) => assertCase(args, outputs[i]!, lang, i)),
          entryPoint: 'f',
        },
      };
    case 'stdio':
      return {
        program: `${fn}${stdioMain(draft, lang)}\n`,
        tests: {
          kind: 'stdio',
          cases: draft.inputs.map((args, i) => ({
            input: `${args.map(stdioText).join('\n')}\n`,
            output: `${stdioText(outputs[i]!)}\n`,
          })),
        },
      };
  }
}
