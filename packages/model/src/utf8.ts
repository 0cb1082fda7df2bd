/*
 * UTF-8 with offsets. Token spans must be computed against exactly the text that `decode` returns,
 * so encoding and decoding both live here instead of in TextEncoder/TextDecoder. Lone surrogates
 * are written as their 3-byte (WTF-8) form so that the byte tokenizer round-trips every JS string;
 * invalid bytes decode to U+FFFD per maximal subpart, as the WHATWG decoder does.
 */

export interface EncodedText {
  bytes: Uint8Array;
  /** For each byte, the UTF-16 index where the code point holding that byte starts. */
  charStart: Uint32Array;
  /** For each byte, the UTF-16 index just after the code point holding that byte. */
  charEnd: Uint32Array;
}

export function encodeUtf8(text: string): EncodedText {
  const bytes = new Uint8Array(text.length * 3);
  const charStart = new Uint32Array(text.length * 3);
  const charEnd = new Uint32Array(text.length * 3);
  let n = 0;
  for (let i = 0; i < text.length; ) {
    let cp = text.charCodeAt(i);
    let units = 1;
    if (cp >= 0xd800 && cp <= 0xdbff && i + 1 < text.length) {
      const lo = text.charCodeAt(i + 1);
      if (lo >= 0xdc00 && lo <= 0xdfff) {
        cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
        units = 2;
      }
    }
    const start = n;
    if (cp < 0x80) bytes[n++] = cp;
    else if (cp < 0x800) {
      bytes[n++] = 0xc0 | (cp >> 6);
      bytes[n++] = 0x80 | (cp & 0x3f);
    } else if (cp < 0x10000) {
      bytes[n++] = 0xe0 | (cp >> 12);
      bytes[n++] = 0x80 | ((cp >> 6) & 0x3f);
      bytes[n++] = 0x80 | (cp & 0x3f);
    } else {
      bytes[n++] = 0xf0 | (cp >> 18);
      bytes[n++] = 0x80 | ((cp >> 12) & 0x3f);
      bytes[n++] = 0x80 | ((cp >> 6) & 0x3f);
      bytes[n++] = 0x80 | (cp & 0x3f);
    }
    for (let b = start; b < n; b++) {
      charStart[b] = i;
      charEnd[b] = i + units;
    }
    i += units;
  }
  return { bytes: bytes.slice(0, n), charStart: charStart.slice(0, n), charEnd: charEnd.slice(0, n) };
}

export interface DecodedText {
  text: string;
  /** `[start, end)` UTF-16 offsets in `text` of each byte group (token), in order. */
  spans: Array<[number, number]>;
}

/**
 * Decode the concatenation of `groups` (one byte array per token) and give each group the span of
 * the characters its bytes belong to. A character split across tokens belongs to every token that
 * holds one of its bytes (as Hugging Face tokenizers report offsets); a group with no bytes gets an
 * empty span at the current position.
 */
export function decodeUtf8Groups(groups: readonly Uint8Array[]): DecodedText {
  let total = 0;
  for (const g of groups) total += g.length;
  const bytes = new Uint8Array(total);
  const groupOfByte = new Int32Array(total);
  let o = 0;
  groups.forEach((g, gi) => {
    bytes.set(g, o);
    groupOfByte.fill(gi, o, o + g.length);
    o += g.length;
  });
  const spans: Array<[number, number]> = groups.map(() => [-1, -1]);
  const parts: string[] = [];
  let chars = 0;
  const emit = (s: string, from: number, to: number) => {
    const start = chars;
    parts.push(s);
    chars += s.length;
    for (let b = from; b < to; b++) {
      const span = spans[groupOfByte[b]!]!;
      if (span[0] < 0) span[0] = start;
      span[1] = chars;
    }
  };
  let i = 0;
  while (i < total) {
    const b0 = bytes[i]!;
    let need = 0;
    let cp = 0;
    let lower = 0x80;
    let upper = 0xbf;
    if (b0 < 0x80) {
      emit(String.fromCharCode(b0), i, i + 1);
      i++;
      continue;
    }
    if (b0 >= 0xc2 && b0 <= 0xdf) {
      need = 1;
      cp = b0 & 0x1f;
    } else if (b0 >= 0xe0 && b0 <= 0xef) {
      need = 2;
      cp = b0 & 0x0f;
      if (b0 === 0xe0) lower = 0xa0;
    } else if (b0 >= 0xf0 && b0 <= 0xf4) {
      need = 3;
      cp = b0 & 0x07;
      if (b0 === 0xf0) lower = 0x90;
      if (b0 === 0xf4) upper = 0x8f;
    } else {
      emit('\ufffd', i, i + 1);
      i++;
      continue;
    }
    let j = i + 1;
    let ok = true;
    for (let k = 0; k < need; k++, j++) {
      const b = bytes[j];
      if (b === undefined || b < lower || b > upper) {
        ok = false;
        break;
      }
      lower = 0x80;
      upper = 0xbf;
      cp = (cp << 6) | (b & 0x3f);
    }
    if (!ok) {
      emit('\ufffd', i, j);
      i = j;
      continue;
    }
    emit(String.fromCodePoint(cp), i, j);
    i = j;
  }
  // Empty groups sit where the text stood when they were reached.
  let last = 0;
  for (const span of spans) {
    if (span[0] < 0) {
      span[0] = last;
      span[1] = last;
    }
    last = span[1];
  }
  return { text: parts.join(''), spans };
}
