import type { Language, LineIndex } from '@stepcoder/core';
import { analyzeLines } from './continuation.js';

/** A stretch of program text `[start, end)` whose tokens share one coverage weight. */
export interface Unit {
  start: number;
  end: number;
  weight: number;
}

/**
 * Weight of every character of `text`. Characters inside a unit take the weight of the smallest
 * unit that holds them. The others (gaps: indentation, `;`, comments, blank lines, `else:`,
 * closing braces, decorators that do not execute) follow the statement they belong to:
 *  1. On a line that has unit characters, a gap character takes the nearest unit character to
 *     its left on that line, or to its right when there is none (so `const ` goes with its
 *     declarator, a trailing `;`/comment/line break with the statement before it).
 *  2. A line with no unit character that continues an open bracket, string or comment follows
 *     the character that opened it (multi-line calls, docstrings, object literals).
 *  3. A line of only closing brackets (`}`, `});`) follows the character that opened the block
 *     or call it closes, or the previous unit when the bracket is unmatched.
 *  4. Any other line (blank, comment, `else:`, `} else {`, `function f() {`, decorators) follows
 *     the next unit: it introduces the code after it. At the end of the text, the previous one.
 * A character with nothing to follow (no unit in the whole program) gets weight 1: a mask must
 * never zero tokens by accident.
 */
export function charWeights(
  text: string,
  index: LineIndex,
  language: Language,
  units: readonly Unit[],
): Float32Array {
  const n = text.length;
  const owner = new Int32Array(n).fill(-1);
  // Largest first, so that nested units overwrite their parents (innermost wins).
  const order = units
    .map((_, i) => i)
    .filter((i) => units[i]!.end > units[i]!.start)
    .sort((a, b) => units[b]!.end - units[b]!.start - (units[a]!.end - units[a]!.start));
  for (const u of order) {
    const { start, end } = units[u]!;
    owner.fill(u, Math.max(0, start), Math.min(n, end));
  }

  const lineCount = index.lineCount;
  const lineEnd = (l: number): number => (l + 1 < lineCount ? index.starts[l + 1]! : n);
  const resolved = owner.slice();
  const hasUnit = new Uint8Array(lineCount);
  const lastOwner = new Int32Array(lineCount).fill(-1);
  const firstOwner = new Int32Array(lineCount).fill(-1);

  for (let l = 0; l < lineCount; l++) {
    const s = index.starts[l]!;
    const e = lineEnd(l);
    let left = -1;
    for (let p = s; p < e; p++) {
      if (owner[p]! >= 0) {
        left = owner[p]!;
        if (firstOwner[l] === -1) firstOwner[l] = left;
      } else if (left >= 0) resolved[p] = left;
    }
    if (left < 0) continue;
    hasUnit[l] = 1;
    lastOwner[l] = left;
    const first = firstOwner[l]!;
    for (let p = s; p < e && owner[p]! < 0; p++) resolved[p] = first;
  }

  const prevOwner = new Int32Array(lineCount).fill(-1);
  const nextOwner = new Int32Array(lineCount).fill(-1);
  for (let l = 1; l < lineCount; l++) prevOwner[l] = hasUnit[l - 1] ? lastOwner[l - 1]! : prevOwner[l - 1]!;
  for (let l = lineCount - 2; l >= 0; l--)
    nextOwner[l] = hasUnit[l + 1] ? firstOwner[l + 1]! : nextOwner[l + 1]!;

  const facts = analyzeLines(text, language, index);
  for (let l = 0; l < lineCount; l++) {
    if (hasUnit[l]) continue;
    const s = index.starts[l]!;
    const opener = facts.openAt[l]!;
    let o: number;
    if (opener >= 0 && opener < s) o = resolved[opener]!;
    else if (facts.closing[l] && facts.closesAt[l]! >= 0 && facts.closesAt[l]! < s)
      o = resolved[facts.closesAt[l]!]!;
    else if (facts.closing[l]) o = prevOwner[l]! >= 0 ? prevOwner[l]! : nextOwner[l]!;
    else o = nextOwner[l]! >= 0 ? nextOwner[l]! : prevOwner[l]!;
    resolved.fill(o, s, lineEnd(l));
  }

  const weights = new Float32Array(n);
  for (let p = 0; p < n; p++) {
    const o = resolved[p]!;
    weights[p] = o >= 0 ? units[o]!.weight : 1;
  }
  return weights;
}
