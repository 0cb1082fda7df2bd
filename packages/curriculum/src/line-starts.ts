/**
 * Offsets of the first character of each line, with the line terminators of Python's tokenizer:
 * `\n`, `\r\n` and a lone `\r`. Python reports 1-based line numbers in these terms, so mapping
 * them through this table gives exact offsets even in CRLF or old-Mac sources.
 */
export function pythonLineStarts(text: string): number[] {
  const starts = [0];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 10) starts.push(i + 1);
    else if (c === 13 && text.charCodeAt(i + 1) !== 10) starts.push(i + 1);
  }
  return starts;
}

/** Whether `c` ends a line in JavaScript: LF, CR, LS, PS. */
export function isJsLineTerminator(c: number): boolean {
  return c === 10 || c === 13 || c === 0x2028 || c === 0x2029;
}

/** Offset of the start of the line that holds `offset` (JavaScript line terminators). */
export function jsLineStartOf(text: string, offset: number): number {
  let i = offset;
  while (i > 0 && !isJsLineTerminator(text.charCodeAt(i - 1))) i--;
  return i;
}
