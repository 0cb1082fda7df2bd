import type { SourcePos } from './execution.js';

/**
 * Line tables for mapping between (line, column) positions and character offsets. Lines end at
 * `\n`; a `\r` before it belongs to the line (CRLF sources keep their offsets exact).
 */
export class LineIndex {
  /** Offset of the first character of each line; `starts[0] === 0`. */
  readonly starts: number[];

  constructor(readonly text: string) {
    const starts = [0];
    for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) starts.push(i + 1);
    this.starts = starts;
  }

  get lineCount(): number {
    return this.starts.length;
  }

  /** Offset of a 1-based line / 0-based column, clamped to the text. */
  offsetOf(pos: SourcePos): number {
    const line = Math.min(Math.max(pos.line, 1), this.starts.length);
    const start = this.starts[line - 1]!;
    const end = line < this.starts.length ? this.starts[line]! : this.text.length;
    return Math.min(start + Math.max(pos.column, 0), end);
  }

  /** 1-based line and 0-based column of an offset. */
  positionOf(offset: number): SourcePos {
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: offset - this.starts[lo]! };
  }

  /** `[start, end)` offsets of a 1-based line, without its line terminator. */
  lineRange(line: number): [number, number] {
    const start = this.starts[line - 1] ?? this.text.length;
    let end = line < this.starts.length ? this.starts[line]! - 1 : this.text.length;
    if (end > start && this.text.charCodeAt(end - 1) === 13) end--;
    return [start, end];
  }
}

/** Convert a column counted in UTF-8 bytes (Python's `col_offset`) to UTF-16 code units. */
export function utf8ColumnToUtf16(lineText: string, byteColumn: number): number {
  let bytes = 0;
  let i = 0;
  while (i < lineText.length && bytes < byteColumn) {
    const cp = lineText.codePointAt(i)!;
    bytes += cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    i += cp > 0xffff ? 2 : 1;
  }
  return i;
}
