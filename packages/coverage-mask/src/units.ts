import type { Coverage, LineIndex, SourceRange, StatementCoverage } from '@stepcoder/core';
import type { Unit } from './ownership.js';

export function rangeOffsets(index: LineIndex, range: SourceRange): [number, number] {
  return [index.offsetOf(range.start), index.offsetOf(range.end)];
}

/** One unit per executable (or executed) line, spanning the line without its terminator. */
export function lineUnits(
  coverage: Coverage,
  index: LineIndex,
  weightOf: (executed: boolean, hits: number | undefined) => number,
): Unit[] {
  const executed = new Set(coverage.lines);
  const all = new Set([...coverage.executableLines, ...coverage.lines]);
  const units: Unit[] = [];
  for (const line of all) {
    if (line < 1 || line > index.lineCount) continue;
    const [start, end] = index.lineRange(line);
    units.push({ start, end, weight: weightOf(executed.has(line), coverage.lineHits?.[line]) });
  }
  return units;
}

/**
 * One unit per statement. A compound statement (one that contains other statements: `if`,
 * `for`, `def`, `try`…) owns only its header: from its start to the end of its first line, plus
 * the executable lines right after it (a decorated `def` starts at its decorator), and never
 * past its first child statement. Its other characters (`else`, closing braces, comments between
 * children) are gaps, resolved by the same rules as in line mode, so that line and statement
 * masks agree on them.
 */
export function statementUnits(
  statements: readonly StatementCoverage[],
  index: LineIndex,
  executableLines: readonly number[],
  weightOf: (hits: number) => number,
): Unit[] {
  const executable = new Set(executableLines);
  const items = statements
    .map((s) => {
      const [start, end] = rangeOffsets(index, s);
      return { start, end, hits: s.hits, childStart: Number.POSITIVE_INFINITY };
    })
    .filter((s) => s.end > s.start)
    .sort((a, b) => a.start - b.start || b.end - a.end);
  const stack: typeof items = [];
  for (const item of items) {
    while (stack.length > 0 && !(stack[stack.length - 1]!.end >= item.end)) stack.pop();
    const parent = stack[stack.length - 1];
    if (parent && parent.childStart === Number.POSITIVE_INFINITY) parent.childStart = item.start;
    stack.push(item);
  }
  return items.map((s) => {
    let end = s.end;
    if (s.childStart !== Number.POSITIVE_INFINITY) {
      let line = index.positionOf(s.start).line;
      const childLine = index.positionOf(s.childStart).line;
      while (line + 1 < childLine && executable.has(line + 1)) line++;
      end = Math.min(index.lineRange(line)[1], s.childStart);
      if (end <= s.start) end = Math.min(s.childStart, s.end);
    }
    return { start: s.start, end, weight: weightOf(s.hits) };
  });
}
