import { isUtf8 } from 'node:buffer';
import { StepcoderError } from '@stepcoder/core';
import { openBytes } from './open.js';
import { invalidUtf8Message } from './utf8.js';

/** One top-level element of a JSON array: its raw text, or why it could not be delimited. */
export interface ArrayElement {
  /** 1-based index of the element in the array. */
  row: number;
  text?: string;
  error?: string;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

/**
 * Splits a JSON array into the raw text of its top-level elements without building them, so a file
 * of any size streams in memory bounded by its largest element. Only structure is tracked (string
 * state, escapes, bracket depth); each element is then parsed with `JSON.parse`, which is much
 * faster than token-by-token assembly (stream-json), see bench/stream.ts. UTF-8 is safe to scan
 * byte-wise because no multi-byte sequence contains an ASCII byte.
 *
 * An element that is not valid JSON is still delimited (and later reported by its row); the
 * splitter can only lose sync on unbalanced brackets, which then surface as one bad element.
 */
export async function* splitJsonArray(
  chunks: AsyncIterable<Buffer>,
  file: string,
): AsyncGenerator<ArrayElement> {
  let started = false; // saw '['
  let ended = false; // saw the closing ']'
  let trailing = false; // something other than whitespace after it
  let inElement = false;
  let expectComma = false;
  let inString = false;
  let escaped = false;
  let depth = 0;
  let row = 0;
  let parts: Buffer[] = [];
  let elemStart = 0;

  const finish = (chunk: Buffer, end: number): ArrayElement => {
    parts.push(chunk.subarray(elemStart, end));
    const buf = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
    parts = [];
    inElement = false;
    expectComma = true;
    row++;
    // Decoding invalid UTF-8 would silently turn it into U+FFFD: a changed row, not a read error.
    if (!isUtf8(buf)) return { row, error: invalidUtf8Message(buf) };
    const text = buf.toString('utf8');
    if (text.trim() === '') return { row, error: 'empty array element (stray comma?)' };
    return { row, text };
  };

  for await (const chunk of chunks) {
    let i = 0;
    const len = chunk.length;
    let nextBackslash = -2;
    while (i < len) {
      if (ended) {
        if (!isSpace(chunk[i]!)) {
          trailing = true;
          break;
        }
        i++;
        continue;
      }
      if (inString) {
        if (escaped) {
          escaped = false;
          i++;
          continue;
        }
        if (nextBackslash !== -1 && nextBackslash < i) nextBackslash = chunk.indexOf(BACKSLASH, i);
        const q = chunk.indexOf(QUOTE, i);
        if (nextBackslash !== -1 && (q === -1 || nextBackslash < q)) {
          i = nextBackslash + 1;
          escaped = true;
          continue;
        }
        if (q === -1) {
          i = len;
          break;
        }
        inString = false;
        i = q + 1;
        continue;
      }
      const c = chunk[i]!;
      if (!started) {
        // Whitespace and the bytes of a UTF-8 byte-order mark may precede the array.
        if (isSpace(c) || c === 0xef || c === 0xbb || c === 0xbf) {
          i++;
          continue;
        }
        if (c !== OPEN_BRACKET) {
          throw new StepcoderError(
            'DATASET_IO',
            `${file}: expected a JSON array ('[') at the start, found '${String.fromCharCode(c)}'`,
            { details: { file, found: String.fromCharCode(c) } },
          );
        }
        started = true;
        i++;
        continue;
      }
      if (!inElement) {
        if (isSpace(c)) {
          i++;
          continue;
        }
        if (c === CLOSE_BRACKET) {
          ended = true;
          i++;
          continue;
        }
        if (c === COMMA) {
          if (expectComma) {
            expectComma = false;
            i++;
            continue;
          }
          // `[,` or `,,`: an empty element; report it rather than drop it silently.
          row++;
          yield { row, error: 'empty array element (stray comma?)' };
          i++;
          continue;
        }
        inElement = true;
        elemStart = i;
      }
      if (c === QUOTE) inString = true;
      else if (c === OPEN_BRACE || c === OPEN_BRACKET) depth++;
      else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
        if (depth > 0) depth--;
        else if (c === CLOSE_BRACKET) {
          yield finish(chunk, i);
          ended = true;
          i++;
          continue;
        }
      } else if (c === COMMA && depth === 0) {
        yield finish(chunk, i);
        expectComma = false;
        i++;
        continue;
      }
      i++;
    }
    if (inElement) {
      parts.push(chunk.subarray(elemStart));
      elemStart = 0;
    }
    if (trailing) break;
  }
  if (!started) {
    throw new StepcoderError('DATASET_IO', `${file}: empty file, expected a JSON array`, {
      details: { file },
    });
  }
  if (trailing) {
    yield { row: row + 1, error: "unexpected content after the array's closing ']'" };
  } else if (!ended) {
    if (inElement) {
      parts = [];
      row++;
      yield { row, error: 'file ends inside this element (truncated file?)' };
    } else {
      yield { row: row + 1, error: "file ends before the array's closing ']' (truncated file?)" };
    }
  }
}

/** Elements of a JSON array file (gzip by extension), streamed. */
export async function* readJsonArray(path: string): AsyncGenerator<ArrayElement> {
  const bytes = await openBytes(path);
  try {
    yield* splitJsonArray(bytes as AsyncIterable<Buffer>, path);
  } finally {
    bytes.destroy();
  }
}
