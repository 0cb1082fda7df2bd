/**
 * A parser for Python literals (what `ast.literal_eval` accepts, minus bytes and complex numbers),
 * producing JSON-like values. APPS+ stores call arguments and expected values as Python-literal
 * strings (`"'abc'"`, `"[1, (2, 3)]"`, `"{'a': True}"`). Parsing them here keeps loading a pure,
 * synchronous, dependency-free step (no python3 subprocess in the data path) at a few MB/s.
 *
 * Mapping: list and tuple → array; set → array (in source order); dict → object (non-string keys
 * become their JSON text, as `JSON.stringify` would); True/False → boolean; None → null;
 * int → number (beyond 2^53 precision is lost, as with JSON); float (incl. `1e5`, `.5`, `1_000`) →
 * number; `float('inf')`-style calls are not literals and are rejected, as literal_eval does.
 */
export class PythonLiteralError extends Error {
  override readonly name = 'PythonLiteralError';
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(`${message} at offset ${offset}`);
  }
}

const SIMPLE_ESCAPES: Record<string, string> = {
  '\\': '\\',
  "'": "'",
  '"': '"',
  a: '\x07',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
};

class Parser {
  pos = 0;
  constructor(readonly src: string) {}

  fail(message: string): never {
    throw new PythonLiteralError(message, this.pos);
  }

  skipSpace(): void {
    const s = this.src;
    while (this.pos < s.length) {
      const c = s[this.pos]!;
      if (c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f') this.pos++;
      else if (c === '\\' && (s[this.pos + 1] === '\n' || s[this.pos + 1] === '\r')) this.pos += 2;
      else if (c === '#') {
        while (this.pos < s.length && s[this.pos] !== '\n') this.pos++;
      } else break;
    }
  }

  parseTop(): unknown {
    this.skipSpace();
    const value = this.parseValue();
    this.skipSpace();
    // A bare top-level tuple: `1, 2` (literal_eval accepts it).
    if (this.src[this.pos] === ',') {
      const items = [value];
      while (this.src[this.pos] === ',') {
        this.pos++;
        this.skipSpace();
        if (this.pos >= this.src.length) break;
        items.push(this.parseValue());
        this.skipSpace();
      }
      if (this.pos < this.src.length) this.fail('unexpected text after literal');
      return items;
    }
    if (this.pos < this.src.length) this.fail('unexpected text after literal');
    return value;
  }

  parseValue(): unknown {
    this.skipSpace();
    const s = this.src;
    const c = s[this.pos];
    if (c === undefined) this.fail('unexpected end of input');
    if (c === '[') return this.parseSeq(']');
    if (c === '(') return this.parseSeq(')');
    if (c === '{') return this.parseBrace();
    if (c === '-' || c === '+') {
      this.pos++;
      this.skipSpace();
      const v = this.parseValue();
      if (typeof v !== 'number') this.fail('unary sign before a non-number');
      return c === '-' ? -v : v;
    }
    if ((c >= '0' && c <= '9') || (c === '.' && /[0-9]/.test(s[this.pos + 1] ?? '')))
      return this.parseNumber();
    const strStart = /^([rRuU]|[rR][bB]|[bB][rR]|[bB])?['"]/.exec(s.slice(this.pos, this.pos + 3));
    if (strStart) {
      if (/[bB]/.test(strStart[1] ?? '')) this.fail('bytes literals are not supported');
      let out = this.parseString();
      // Adjacent string literals concatenate, as in Python source.
      for (;;) {
        const save = this.pos;
        this.skipSpace();
        if (/^([rRuU])?['"]/.test(s.slice(this.pos, this.pos + 2))) out += this.parseString();
        else {
          this.pos = save;
          break;
        }
      }
      return out;
    }
    const word = /^[A-Za-z_][A-Za-z0-9_]*/.exec(s.slice(this.pos, this.pos + 64));
    if (word) {
      const w = word[0];
      if (w === 'True' || w === 'False' || w === 'None') {
        this.pos += w.length;
        return w === 'True' ? true : w === 'False' ? false : null;
      }
      if (w === 'set' && s.startsWith('set()', this.pos)) {
        this.pos += 5;
        return [];
      }
      this.fail(`'${w}' is not a literal`);
    }
    this.fail(`unexpected character '${c}'`);
  }

  parseSeq(close: ']' | ')'): unknown[] {
    this.pos++;
    const items: unknown[] = [];
    for (;;) {
      this.skipSpace();
      if (this.src[this.pos] === close) {
        this.pos++;
        return items;
      }
      items.push(this.parseValue());
      this.skipSpace();
      const c = this.src[this.pos];
      if (c === ',') this.pos++;
      else if (c === close) {
        this.pos++;
        return items;
      } else this.fail(`expected ',' or '${close}'`);
    }
  }

  parseBrace(): unknown {
    this.pos++;
    this.skipSpace();
    if (this.src[this.pos] === '}') {
      this.pos++;
      return {};
    }
    const first = this.parseValue();
    this.skipSpace();
    if (this.src[this.pos] !== ':') {
      // A set literal.
      const items = [first];
      for (;;) {
        const c = this.src[this.pos];
        if (c === '}') {
          this.pos++;
          return items;
        }
        if (c !== ',') this.fail("expected ',' or '}' in set");
        this.pos++;
        this.skipSpace();
        if (this.src[this.pos] === '}') continue;
        items.push(this.parseValue());
        this.skipSpace();
      }
    }
    const out: Record<string, unknown> = {};
    let key = first;
    for (;;) {
      this.pos++; // ':'
      const value = this.parseValue();
      const k = typeof key === 'string' ? key : JSON.stringify(key);
      Object.defineProperty(out, k, { value, enumerable: true, writable: true, configurable: true });
      this.skipSpace();
      const c = this.src[this.pos];
      if (c === ',') {
        this.pos++;
        this.skipSpace();
        if (this.src[this.pos] === '}') {
          this.pos++;
          return out;
        }
        key = this.parseValue();
        this.skipSpace();
        if (this.src[this.pos] !== ':') this.fail("expected ':' in dict");
      } else if (c === '}') {
        this.pos++;
        return out;
      } else this.fail("expected ',' or '}' in dict");
    }
  }

  parseNumber(): number {
    const s = this.src;
    const m =
      /^(0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|(\d[\d_]*)?(\.[\d_]*)?([eE][+-]?\d[\d_]*)?)[jJ]?/.exec(
        s.slice(this.pos),
      );
    const text = m?.[0] ?? '';
    if (text === '' || text === '.') this.fail('malformed number');
    if (/[jJ]$/.test(text)) this.fail('complex numbers are not supported');
    this.pos += text.length;
    const clean = text.replace(/_/g, '');
    if (/^0[xX]/.test(clean)) return Number.parseInt(clean.slice(2), 16);
    if (/^0[oO]/.test(clean)) return Number.parseInt(clean.slice(2), 8);
    if (/^0[bB]/.test(clean)) return Number.parseInt(clean.slice(2), 2);
    const value = Number(clean);
    if (Number.isNaN(value)) this.fail(`malformed number '${text}'`);
    return value;
  }

  parseString(): string {
    const s = this.src;
    let raw = false;
    while (s[this.pos] !== "'" && s[this.pos] !== '"') {
      if (s[this.pos] === 'r' || s[this.pos] === 'R') raw = true;
      this.pos++;
    }
    const q = s[this.pos]!;
    const triple = s.startsWith(q.repeat(3), this.pos);
    const delim = triple ? q.repeat(3) : q;
    this.pos += delim.length;
    let out = '';
    for (;;) {
      if (this.pos >= s.length) this.fail('unterminated string');
      if (s.startsWith(delim, this.pos)) {
        this.pos += delim.length;
        return out;
      }
      const c = s[this.pos]!;
      if (!triple && c === '\n') this.fail('newline in single-quoted string');
      if (c !== '\\') {
        out += c;
        this.pos++;
        continue;
      }
      const n = s[this.pos + 1];
      if (n === undefined) this.fail('unterminated string');
      if (raw) {
        // Raw strings keep the backslash; it still protects the quote that follows it.
        out += c + n;
        this.pos += 2;
        continue;
      }
      this.pos += 2;
      if (n === '\n') continue;
      if (n === '\r') {
        if (s[this.pos] === '\n') this.pos++;
        continue;
      }
      const simple = SIMPLE_ESCAPES[n];
      if (simple !== undefined) {
        out += simple;
        continue;
      }
      if (n === 'x' || n === 'u' || n === 'U') {
        const width = n === 'x' ? 2 : n === 'u' ? 4 : 8;
        const hex = s.slice(this.pos, this.pos + width);
        if (!new RegExp(`^[0-9a-fA-F]{${width}}$`).test(hex)) this.fail(`bad \\${n} escape`);
        const code = Number.parseInt(hex, 16);
        if (code > 0x10ffff) this.fail(`bad \\${n} escape`);
        out += String.fromCodePoint(code);
        this.pos += width;
        continue;
      }
      if (n >= '0' && n <= '7') {
        const oct = /^[0-7]{1,3}/.exec(s.slice(this.pos - 1, this.pos + 2))![0];
        out += String.fromCharCode(Number.parseInt(oct, 8));
        this.pos += oct.length - 1;
        continue;
      }
      // Unknown escapes keep the backslash, as Python does.
      out += `\\${n}`;
    }
  }
}

/** Parse one Python literal. Throws PythonLiteralError with the offset of the problem. */
export function parsePythonLiteral(source: string): unknown {
  return new Parser(source).parseTop();
}

/** Parse, or return `undefined` when `source` is not a Python literal. */
export function tryParsePythonLiteral(source: string): { value: unknown } | undefined {
  try {
    return { value: parsePythonLiteral(source) };
  } catch (err) {
    if (err instanceof PythonLiteralError) return undefined;
    throw err;
  }
}
