import type { Language } from '@stepcoder/core';

const PYTHON_BLOCK =
  /^[ \t\f]*(?:(?:if|elif|else|for|while|try|except|finally|with|def|class)\b|async[ \t]+(?:def|for|with)\b|@)/;
/** `match`/`case` are soft keywords: only a line that ends its header with `:` counts. */
const PYTHON_SOFT = /^[ \t\f]*(?:match|case)\b.*:[ \t]*(?:#.*)?$/;
const JS_BLOCK =
  /^[ \t]*(?:\}[ \t]*)?(?:(?:if|else|for|while|do|switch|case|default|try|catch|finally|with|function|class|async[ \t]+function|export)\b|@)/;

/**
 * Split points found without a parser, for programs that do not parse: the start of every line
 * whose first word opens a block (the same constructs the parsers look for), skipping lines that
 * begin inside a multi-line string or comment (as far as a small lexer can tell) and lines that
 * directly follow a decorator. Best effort by design: the program is broken anyway.
 */
export function fallbackPoints(source: string, language: Language): number[] {
  const python = language === 'python';
  const insideAtLineStart = python ? pythonContinuationLines(source) : jsContinuationLines(source);
  const points: number[] = [];
  let offset = 0;
  let line = 0;
  let previousDecorator = false;
  while (offset <= source.length) {
    const nl = source.indexOf('\n', offset);
    const end = nl < 0 ? source.length : nl;
    const text = source.slice(offset, end).replace(/\r$/, '');
    const blank = text.trim() === '';
    if (!blank && !insideAtLineStart.has(line)) {
      const opens = python ? PYTHON_BLOCK.test(text) || PYTHON_SOFT.test(text) : JS_BLOCK.test(text);
      if (opens && !previousDecorator && offset < source.length) points.push(offset);
      previousDecorator = /^[ \t\f]*@/.test(text);
    }
    if (nl < 0) break;
    offset = nl + 1;
    line++;
  }
  return points;
}

/** 0-based lines that begin inside a triple-quoted string (Python). */
function pythonContinuationLines(source: string): Set<number> {
  const inside = new Set<number>();
  let line = 0;
  let quote: string | undefined; // the open string's delimiter: ', ", ''' or """
  for (let i = 0; i < source.length; i++) {
    const c = source[i]!;
    if (c === '\n') {
      line++;
      if (quote && quote.length === 1) quote = undefined; // unterminated one-line string
      if (quote) inside.add(line);
      continue;
    }
    if (quote) {
      if (c === '\\') {
        if (source[i + 1] === '\n') inside.add(++line); // backslash-continued string
        i++;
      } else if (source.startsWith(quote, i)) {
        i += quote.length - 1;
        quote = undefined;
      }
      continue;
    }
    if (c === '#') {
      while (i + 1 < source.length && source[i + 1] !== '\n') i++;
    } else if (c === '"' || c === "'") {
      quote = source.startsWith(c.repeat(3), i) ? c.repeat(3) : c;
      i += quote.length - 1;
    }
  }
  return inside;
}

/** 0-based lines that begin inside a block comment or template literal (JavaScript). */
function jsContinuationLines(source: string): Set<number> {
  const inside = new Set<number>();
  let line = 0;
  let state: 'code' | 'block' | 'template' | "'" | '"' = 'code';
  // Brace depth of each open `${`, so `}` knows whether it closes a substitution.
  const templateDepth: number[] = [];
  let depth = 0;
  for (let i = 0; i < source.length; i++) {
    const c = source[i]!;
    if (c === '\n') {
      line++;
      if (state === "'" || state === '"') state = 'code';
      if (state === 'block' || state === 'template') inside.add(line);
      continue;
    }
    switch (state) {
      case 'block':
        if (c === '*' && source[i + 1] === '/') {
          state = 'code';
          i++;
        }
        break;
      case 'template':
        if (c === '\\') {
          if (source[i + 1] === '\n') inside.add(++line);
          i++;
        } else if (c === '`') state = 'code';
        else if (c === '$' && source[i + 1] === '{') {
          templateDepth.push(depth);
          depth++;
          state = 'code';
          i++;
        }
        break;
      case "'":
      case '"':
        if (c === '\\') {
          if (source[i + 1] === '\n') inside.add(++line);
          i++;
        } else if (c === state) state = 'code';
        break;
      default:
        if (c === '/' && source[i + 1] === '/') {
          while (i + 1 < source.length && source[i + 1] !== '\n') i++;
        } else if (c === '/' && source[i + 1] === '*') {
          state = 'block';
          i++;
        } else if (c === '`') state = 'template';
        else if (c === "'" || c === '"') state = c;
        else if (c === '{') depth++;
        else if (c === '}') {
          depth--;
          if (templateDepth.length > 0 && templateDepth[templateDepth.length - 1] === depth) {
            templateDepth.pop();
            state = 'template';
          }
        }
    }
  }
  return inside;
}
