import type { Language } from '@stepcoder/core';
import { pythonLineStarts } from './line-starts.js';
import { getDefaultPythonSplitter, type PythonPointsResult } from './python-splitter.js';
import { fallbackPoints } from './split-fallback.js';
import { splitJavaScript } from './split-js.js';
import { locateStarter } from './starter.js';
import type { SplitInput, SplitOptions, SplitResult } from './types.js';

/**
 * Split points of one program (see `SplitResult`). Python goes through the shared python3
 * process; JavaScript/TypeScript through @babel/parser. Never throws for a bad program: a
 * program that does not parse, or a Python process that is missing or died, gives a
 * `lines-fallback` result with the reason.
 */
export async function splitProgram(
  source: string,
  language: Language,
  options: SplitOptions = {},
): Promise<SplitResult> {
  const [result] = await splitPrograms([{ source, language, starterCode: options.starterCode }], options);
  return result!;
}

/** Split many programs; all the Python ones go to the python3 process together. */
export async function splitPrograms(
  inputs: readonly SplitInput[],
  options: Pick<SplitOptions, 'splitter'> = {},
): Promise<SplitResult[]> {
  const results: Array<SplitResult | undefined> = new Array(inputs.length);
  const pythonIndexes: number[] = [];
  inputs.forEach((input, i) => {
    if (input.language === 'python') pythonIndexes.push(i);
    else if (input.language === 'javascript' || input.language === 'typescript') {
      const raw = splitJavaScript(input.source, input.language === 'typescript');
      results[i] = raw.ok ? finish(input, raw.points, 'ast') : fallback(input, raw.error);
    } else {
      results[i] = fallback(input, `no parser for language '${String(input.language)}'`);
    }
  });
  if (pythonIndexes.length > 0) {
    const splitter = options.splitter ?? getDefaultPythonSplitter();
    let raw: PythonPointsResult[] | undefined;
    let failure = '';
    try {
      raw = await splitter.split(pythonIndexes.map((i) => inputs[i]!.source));
    } catch (err) {
      failure = err instanceof Error ? err.message : String(err);
    }
    pythonIndexes.forEach((index, k) => {
      const input = inputs[index]!;
      const r = raw?.[k];
      results[index] = !r
        ? fallback(input, `python splitter unavailable: ${failure || 'no answer'}`)
        : r.ok
          ? fromPythonLines(input, r.points)
          : fallback(input, r.error);
    });
  }
  return results as SplitResult[];
}

function fromPythonLines(input: SplitInput, lines: Array<[number, string]>): SplitResult {
  const starts = pythonLineStarts(input.source);
  const points: number[] = [];
  for (const [line, keyword] of lines) {
    const offset = starts[line - 1];
    // Cross-check the line mapping: the line must begin (after indentation) with Python's token.
    const text =
      offset === undefined ? '' : input.source.slice(offset, offset + 200).replace(/^[ \t\f]*/, '');
    if (offset === undefined || !text.startsWith(keyword)) {
      return fallback(
        input,
        `python line ${line} does not start with '${keyword}' here (line mapping mismatch)`,
      );
    }
    points.push(offset);
  }
  return finish(input, points, 'ast');
}

function fallback(input: SplitInput, reason: string): SplitResult {
  return finish(input, fallbackPoints(input.source, input.language), 'lines-fallback', reason);
}

/**
 * Drop points inside the starter code, at the very start and at the very end; sort and
 * de-duplicate. Points in code that precedes the starter (helper functions) are kept.
 */
function finish(
  input: SplitInput,
  raw: readonly number[],
  method: SplitResult['method'],
  reason?: string,
): SplitResult {
  const starter = locateStarter(input.source, input.starterCode);
  const points = [...new Set(raw)]
    .filter((p) => (p > 0 && p < starter.start) || (p > starter.end && p < input.source.length))
    .sort((a, b) => a - b);
  const notes = [reason, starter.found ? undefined : 'starter code not found in the program; ignored'];
  const note = notes.filter((n) => n !== undefined).join('; ');
  return {
    points,
    method,
    starterStart: starter.start,
    starterEnd: starter.end,
    ...(note ? { reason: note } : {}),
  };
}
