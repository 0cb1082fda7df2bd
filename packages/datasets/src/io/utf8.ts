/** Byte offset of the first invalid UTF-8 sequence in `buf` (-1 when it is valid UTF-8). */
export function firstInvalidUtf8(buf: Uint8Array): number {
  let i = 0;
  while (i < buf.length) {
    const b = buf[i]!;
    let need: number;
    let min: number;
    if (b < 0x80) {
      i++;
      continue;
    } else if (b >= 0xc2 && b <= 0xdf) [need, min] = [1, 0x80];
    else if (b >= 0xe0 && b <= 0xef) [need, min] = [2, 0x800];
    else if (b >= 0xf0 && b <= 0xf4) [need, min] = [3, 0x10000];
    else return i;
    let cp = b & (0x3f >> need);
    for (let k = 1; k <= need; k++) {
      const c = buf[i + k];
      if (c === undefined || (c & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (c & 0x3f);
    }
    // Overlong forms, UTF-16 surrogates and code points past U+10FFFF are invalid UTF-8.
    if (cp < min || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff) return i;
    i += need + 1;
  }
  return -1;
}

/** The row issue for bytes that are not UTF-8: where, and which bytes. */
export function invalidUtf8Message(buf: Uint8Array): string {
  const at = Math.max(0, firstInvalidUtf8(buf));
  const bytes = Buffer.from(buf.subarray(at, Math.min(buf.length, at + 4)))
    .toString('hex')
    .replace(/(..)(?!$)/g, '$1 ');
  return `invalid UTF-8 at byte ${at} of the row (bytes ${bytes}); not decoded, since decoding would replace them with U+FFFD`;
}
