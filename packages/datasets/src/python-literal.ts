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
 *
 * It accepts what `ast.literal_eval` accepts and rejects what it rejects (checked by a differential
 * test against python3 over a generated corpus), with these documented exceptions, all rejected
 * here although Python accepts them: bytes, complex numbers and `\N{NAME}` escapes (Node has no
 * Unicode name table; rejecting beats mis-decoding), and `set( )` with space inside. Whitespace
 * is slightly more lenient than Python's tokenizer at the very start and end of the text (an
 * indented first line after a blank one, trailing spaces on a last line of their own).
 * Python rules that matter for data: `(1)` is 1 and `(1,)` a tuple; a sign applies only to a
 * number (`--1` and `-True` are rejected); `007` is a syntax error; dict keys and set items are
 * deduplicated with Python's equality (`{1: 'a', True: 'b'}` is `{1: 'b'}`, `{1, True}` is
 * `{1}`); lists, dicts and sets cannot be keys or set items (unhashable).
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

/** One digit run of a Python number literal: underscores only between digits (`1_000`, not `1__0`). */
const D = '\\d(?:_?\\d)*';
const NUMBER_RE = new RegExp(
  `^(?:0[xX](?:_?[0-9a-fA-F])+|0[oO](?:_?[0-7])+|0[bB](?:_?[01])+|(?:(?:${D})?\\.${D}|${D}\\.?)(?:[eE][+-]?${D})?)[jJ]?`,
);

/** How a parsed value was written, where Python's rules depend on it. */
type Form = 'number' | 'signed' | 'hashable' | 'unhashable';

/**
 * The identity Python's `==`/`hash` gives a hashable value, so that `1`, `1.0` and `True` are one
 * dict key or set item: numbers and bools by numeric value, strings by text, tuples by items.
 */
function keyIdentity(value: unknown): string {
  if (value === null) return 'None';
  if (typeof value === 'boolean' || typeof value === 'number') return `n:${Number(value)}`;
  if (typeof value === 'string') return `s:${value}`;
  return `t:(${(value as unknown[]).map(keyIdentity).join(',')})`;
}

class Parser {
  pos = 0;
  /** Open brackets around the current position: newlines only continue a literal inside them. */
  depth = 0;
  /** How the value last returned by parseValue was written. */
  form: Form = 'hashable';
  constructor(readonly src: string) {}

  fail(message: string): never {
    throw new PythonLiteralError(message, this.pos);
  }

  /** Spaces, comments and line continuations; newlines too inside brackets or when `newlines`. */
  skipSpace(newlines = this.depth > 0): void {
    const s = this.src;
    while (this.pos < s.length) {
      const c = s[this.pos]!;
      if (c === ' ' || c === '\t' || c === '\f') this.pos++;
      else if (c === '\n' || c === '\r') {
        if (!newlines) break;
        this.pos++;
      } else if (c === '\\' && (s[this.pos + 1] === '\n' || s[this.pos + 1] === '\r')) this.pos += 2;
      else if (c === '#') {
        while (this.pos < s.length && s[this.pos] !== '\n') this.pos++;
      } else break;
    }
  }

  /** The end of the text may follow: trailing spaces, comments and blank lines. */
  atEnd(): boolean {
    const save = this.pos;
    this.skipSpace(true);
    const end = this.pos >= this.src.length;
    this.pos = save;
    return end;
  }

  parseTop(): unknown {
    this.skipSpace(true);
    const value = this.parseValue();
    this.skipSpace();
    // A bare top-level tuple: `1, 2` (literal_eval accepts it), on one logical line.
    if (this.src[this.pos] === ',') {
      const items = [value];
      while (this.src[this.pos] === ',') {
        this.pos++;
        this.skipSpace();
        if (this.atEnd()) break;
        items.push(this.parseValue());
        this.skipSpace();
      }
      if (!this.atEnd()) this.fail('unexpected text after literal');
      return items;
    }
    if (!this.atEnd()) this.fail('unexpected text after literal');
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
      const at = this.pos;
      this.pos++;
      this.skipSpace();
      const v = this.parseValue();
      // literal_eval applies a sign to a number literal only: not `--1`, `-True` or `-'a'`.
      if (typeof v !== 'number' || this.form !== 'number') {
        this.pos = at;
        this.fail('a sign applies only to a number');
      }
      this.form = 'signed';
      return c === '-' ? -v : v;
    }
    if ((c >= '0' && c <= '9') || (c === '.' && /[0-9]/.test(s[this.pos + 1] ?? ''))) {
      const v = this.parseNumber();
      this.form = 'number';
      return v;
    }
    const strStart = /^([rRuU]|[rR][bB]|[bB][rR]|[bB])?['"]/.exec(s.slice(this.pos, this.pos + 3));
    if (strStart) {
      if (/[bB]/.test(strStart[1] ?? '')) this.fail('bytes literals are not supported');
      let out = this.parseString();
      // Adjacent string literals concatenate, as in Python source.
      for (;;) {
        const save = this.pos;
        this.skipSpace();
        const next = /^([rRuU]|[rR][bB]|[bB][rR]|[bB])?['"]/.exec(s.slice(this.pos, this.pos + 3));
        if (next && /[bB]/.test(next[1] ?? '')) this.fail('bytes literals are not supported');
        if (next) out += this.parseString();
        else {
          this.pos = save;
          break;
        }
      }
      this.form = 'hashable';
      return out;
    }
    const word = /^[A-Za-z_][A-Za-z0-9_]*/.exec(s.slice(this.pos, this.pos + 64));
    if (word) {
      const w = word[0];
      if (w === 'True' || w === 'False' || w === 'None') {
        this.pos += w.length;
        this.form = 'hashable';
        return w === 'True' ? true : w === 'False' ? false : null;
      }
      if (w === 'set' && s.startsWith('set()', this.pos)) {
        this.pos += 5;
        this.form = 'unhashable';
        return [];
      }
      this.fail(`'${w}' is not a literal`);
    }
    this.fail(`unexpected character '${c}'`);
  }

  /**
   * `[...]` or `(...)`. A parenthesised value without a comma is that value (`(1)` is 1, and
   * `-(1)` is a signed number); `()` and `(1,)` are tuples.
   */
  parseSeq(close: ']' | ')'): unknown {
    this.pos++;
    this.depth++;
    const items: unknown[] = [];
    const forms: Form[] = [];
    let comma = false;
    for (;;) {
      this.skipSpace();
      if (this.src[this.pos] === close) break;
      items.push(this.parseValue());
      forms.push(this.form);
      this.skipSpace();
      const c = this.src[this.pos];
      if (c === ',') {
        this.pos++;
        comma = true;
      } else if (c === close) break;
      else this.fail(`expected ',' or '${close}'`);
    }
    this.pos++;
    this.depth--;
    if (close === ')' && items.length === 1 && !comma) {
      this.form = forms[0]!;
      return items[0];
    }
    // A tuple is hashable when its items are; a list never is.
    this.form = close === ')' && forms.every((f) => f !== 'unhashable') ? 'hashable' : 'unhashable';
    return items;
  }

  /** A dict key or set item: hashable, or Python raises TypeError. */
  parseHashable(what: string): unknown {
    const at = this.pos;
    const value = this.parseValue();
    if (this.form === 'unhashable') {
      this.pos = at;
      this.fail(`unhashable ${what} (a list, dict or set)`);
    }
    return value;
  }

  parseBrace(): unknown {
    this.pos++;
    this.depth++;
    this.skipSpace();
    if (this.src[this.pos] === '}') {
      this.pos++;
      this.depth--;
      this.form = 'unhashable';
      return {};
    }
    const first = this.parseHashable('set item or dict key');
    this.skipSpace();
    if (this.src[this.pos] !== ':') {
      // A set literal: items equal under Python's == appear once, first occurrence kept.
      const seen = new Set([keyIdentity(first)]);
      const items = [first];
      for (;;) {
        const c = this.src[this.pos];
        if (c === '}') break;
        if (c !== ',') this.fail("expected ',' or '}' in set");
        this.pos++;
        this.skipSpace();
        if (this.src[this.pos] === '}') continue;
        const item = this.parseHashable('set item');
        if (!seen.has(keyIdentity(item))) {
          seen.add(keyIdentity(item));
          items.push(item);
        }
        this.skipSpace();
      }
      this.pos++;
      this.depth--;
      this.form = 'unhashable';
      return items;
    }
    const out: Record<string, unknown> = {};
    // Python keeps the first key of equal keys (`{1: a, True: b}` is `{1: b}`) and the last value.
    const names = new Map<string, string>();
    let key = first;
    for (;;) {
      this.pos++; // ':'
      const value = this.parseValue();
      const identity = keyIdentity(key);
      const k = names.get(identity) ?? (typeof key === 'string' ? key : JSON.stringify(key));
      names.set(identity, k);
      Object.defineProperty(out, k, { value, enumerable: true, writable: true, configurable: true });
      this.skipSpace();
      const c = this.src[this.pos];
      if (c === ',') {
        this.pos++;
        this.skipSpace();
        if (this.src[this.pos] === '}') break;
        key = this.parseHashable('dict key');
        this.skipSpace();
        if (this.src[this.pos] !== ':') this.fail("expected ':' in dict");
      } else if (c === '}') break;
      else this.fail("expected ',' or '}' in dict");
    }
    this.pos++;
    this.depth--;
    this.form = 'unhashable';
    return out;
  }

  parseNumber(): number {
    const s = this.src;
    const text = NUMBER_RE.exec(s.slice(this.pos, this.pos + 4096))?.[0] ?? '';
    if (text === '') this.fail('malformed number');
    // `0b12`, `1__0`, `1_`, `1e`, `1abc`: Python's tokenizer rejects a number run into more name
    // characters.
    if (/[A-Za-z0-9_]/.test(s[this.pos + text.length] ?? '')) this.fail('invalid number literal');
    if (/[jJ]$/.test(text)) this.fail('complex numbers are not supported');
    const clean = text.replace(/_/g, '');
    if (/^0\d*[1-9]\d*$/.test(clean)) {
      this.fail('leading zeros in a decimal integer are not allowed (use 0o for octal)');
    }
    this.pos += text.length;
    // BigInt parses the 0x/0o/0b prefixes exactly and rounds to the nearest double like JSON does.
    if (/^0[xXoObB]/.test(clean)) return Number(BigInt(clean));
    return Number(clean);
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
      if (!triple && (c === '\n' || c === '\r')) this.fail('newline in single-quoted string');
      if (c === '\r') {
        // Python reads source newlines as \n, inside triple-quoted strings too.
        out += '\n';
        this.pos += s[this.pos + 1] === '\n' ? 2 : 1;
        continue;
      }
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
      if (n === 'N') this.fail('\\N{NAME} escapes are not supported');
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
