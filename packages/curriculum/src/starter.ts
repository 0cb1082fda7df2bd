export interface StarterLocation {
  /**
   * Offset where the starter code begins in the program: 0 when it is a prefix, absent or not
   * found; more when code (imports, helper functions) precedes it.
   */
  start: number;
  /** Offset just past the starter code in the program (0 when absent or not found). */
  end: number;
  /** False when the problem has starter code that the program does not contain. */
  found: boolean;
}

interface Line {
  text: string;
  /** Offset of the line's first character. */
  start: number;
  /** Offset just past the line terminator (or the end of the program). */
  next: number;
}

function nonBlankLines(text: string): Line[] {
  const lines: Line[] = [];
  let offset = 0;
  while (offset < text.length) {
    const nl = text.indexOf('\n', offset);
    const next = nl < 0 ? text.length : nl + 1;
    const line = text.slice(offset, nl < 0 ? text.length : nl).trimEnd();
    if (line.trim() !== '') lines.push({ text: line, start: offset, next });
    offset = next;
  }
  return lines;
}

/**
 * Where the starter code ends in a program. An exact prefix is the usual case (HumanEval: the
 * program is prompt + solution). Otherwise the starter's non-blank lines are searched as a run of
 * consecutive non-blank program lines, ignoring trailing whitespace (APPS+ solutions often put
 * imports or helper functions before the given `def`); `start` is then where its first line begins.
 */
export function locateStarter(program: string, starterCode: string | undefined): StarterLocation {
  if (!starterCode || starterCode.trim() === '') return { start: 0, end: 0, found: true };
  if (program.startsWith(starterCode)) return { start: 0, end: starterCode.length, found: true };
  const want = nonBlankLines(starterCode).map((l) => l.text);
  const have = nonBlankLines(program);
  outer: for (let i = 0; i + want.length <= have.length; i++) {
    for (let j = 0; j < want.length; j++) if (have[i + j]!.text !== want[j]) continue outer;
    return { start: have[i]!.start, end: have[i + want.length - 1]!.next, found: true };
  }
  return { start: 0, end: 0, found: false };
}
