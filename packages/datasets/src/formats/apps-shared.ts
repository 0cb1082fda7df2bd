import type { Problem } from '@stepcoder/core';
import { tryParsePythonLiteral } from '../python-literal.js';
import { describe, rowError } from '../row-error.js';

/** The function a harness calls, found in starter code (or a canonical solution). */
export interface Signature {
  className?: string;
  fnName?: string;
  /** Parameters of the function, `self` excluded. */
  params: number;
}

function countParams(list: string): number {
  return list
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '' && p !== 'self' && !p.startsWith('self:')).length;
}

export function findSignature(code: string): Signature | undefined {
  const cls = /^[ \t]*class\s+(\w+)\s*[:(]/m.exec(code);
  if (cls) {
    const rest = code.slice(cls.index);
    const re = /^[ \t]+def\s+(\w+)\s*\(([^)]*)\)/gm;
    for (let m = re.exec(rest); m; m = re.exec(rest)) {
      if (m[1] !== '__init__') return { className: cls[1]!, fnName: m[1]!, params: countParams(m[2]!) };
    }
  }
  const def = /^def\s+(\w+)\s*\(([^)]*)\)/m.exec(code);
  if (def) return { fnName: def[1]!, params: countParams(def[2]!) };
  return undefined;
}

/** A list field that may be stored as a list, a JSON string or a Python-literal string. */
export function listField(value: unknown, field: string): unknown[] {
  if (Array.isArray(value)) return value;
  if (typeof value === 'string') {
    try {
      const v = JSON.parse(value);
      if (Array.isArray(v)) return v;
    } catch {
      // not JSON: try a Python literal below
    }
    const lit = tryParsePythonLiteral(value);
    if (lit && Array.isArray(lit.value)) return lit.value;
    rowError(field, 'expected a list (or a JSON / Python-literal string of a list)');
  }
  if (value === undefined) rowError(field, 'missing required field');
  rowError(field, `expected a list, found ${describe(value)}`);
}

/** APPS stores some stdin/stdout texts as lists of lines; the harness joins them. */
function stdioText(value: unknown, field: string): string {
  if (typeof value === 'string') return value;
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value.join('\n');
  rowError(field, `expected a string, found ${describe(value)}`);
}

function literal(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  const parsed = tryParsePythonLiteral(value);
  // A string that is not a Python literal is taken verbatim (APPS+ leaves a few raw strings).
  return parsed ? parsed.value : value;
}

export interface TestSpec {
  inputs: unknown[];
  outputs: unknown[];
  /** Call-based when set. */
  fnName?: string;
  className?: string;
  /** Decode string arguments and expected values as Python literals (APPS+). */
  literals: boolean;
}

export function buildTests(spec: TestSpec): Problem['tests'] {
  const { inputs, outputs } = spec;
  if (inputs.length !== outputs.length) {
    rowError('outputs', `has ${outputs.length} entries but inputs has ${inputs.length}`);
  }
  if (inputs.length === 0) rowError('inputs', 'no test cases');
  if (spec.fnName === undefined) {
    return {
      kind: 'stdio',
      cases: inputs.map((input, i) => ({
        input: stdioText(input, `inputs[${i}]`),
        output: stdioText(outputs[i], `outputs[${i}]`),
      })),
    };
  }
  const callInputs = inputs.map((input, i) => {
    const args = spec.literals ? literal(input) : input;
    if (!Array.isArray(args))
      rowError(`inputs[${i}]`, `expected a list of arguments, found ${describe(args)}`);
    return spec.literals ? args.map(literal) : args;
  });
  const callOutputs = outputs.map((output) => {
    if (!spec.literals) return output;
    return Array.isArray(output) ? output.map(literal) : literal(output);
  });
  return {
    kind: 'call',
    fnName: spec.fnName,
    ...(spec.className ? { className: spec.className } : {}),
    inputs: callInputs,
    outputs: callOutputs,
  };
}

/** File name without directory and data extensions: `/a/train.json.gz` → `train`. */
export function fileStem(path: string): string {
  const base = path.split(/[\\/]/).filter(Boolean).pop() ?? path;
  return base.replace(/(\.(json|jsonl|ndjson))?(\.gz)?$/i, '');
}
