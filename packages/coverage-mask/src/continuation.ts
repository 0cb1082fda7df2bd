import type { Language, LineIndex } from '@stepcoder/core';

/**
 * Per-line facts the ownership rules need, found with a small lexer (strings, comments and
 * brackets only; no parser):
 *  - `openAt[L]`: when line L (0-based) starts inside an open bracket, a multi-line string or
 *    comment, or after a backslash continuation, the offset of the character that opened it
 *    (the line continues the statement that character belongs to); otherwise -1.
 *  - `closing[L]`: the line holds only closing brackets and `;`/`,` (plus a comment).
 *  - `closesAt[L]`: for such a line, the offset of the bracket its first `)`/`]`/`}` closes
 *    (-1 when unmatched): the line follows the code that opened the block or call.
 * In JavaScript only `(`, `[`, template literals, block comments and object-literal `{` count:
 * a block `{` opens statements of its own, not a continuation. Telling the two `{` apart is a
 * heuristic on the preceding token; regex literals are not recognised (rare in practice).
 */
export interface LineFacts {
  openAt: Int32Array;
  closing: Uint8Array;
  closesAt: Int32Array;
}

type Frame = { kind: '(' | '[' | '{' | '{block' | 'tpl' | '${'; at: number };

const CLOSING_LINE = /^[\s)\]}]*[)\]}][\s)\]};,]*(?:(?:#|\/\/).*)?$/;
/** A `{` after one of these (or after `return`, `yield`…) starts an object literal, not a block. */
const EXPRESSION_BEFORE = new Set([
  '=',
  '(',
  ',',
  ':',
  '[',
  '?',
  '!',
  '&',
  '|',
  '+',
  '-',
  '*',
  '/',
  '%',
  '<',
  '>',
  '~',
  '^',
]);
const EXPRESSION_KEYWORDS = /(?:^|[^\w$])(?:return|yield|await|typeof|case|in|of|new|void|delete)$/;

export function analyzeLines(text: string, language: Language, index: LineIndex): LineFacts {
  const lineCount = index.lineCount;
  const openAt = new Int32Array(lineCount).fill(-1);
  const closing = new Uint8Array(lineCount);
  const closesAt = new Int32Array(lineCount).fill(-1);
  for (let l = 0; l < lineCount; l++) {
    const [s, e] = index.lineRange(l + 1);
    if (CLOSING_LINE.test(text.slice(s, e))) closing[l] = 1;
  }
  const facts = { openAt, closing, closesAt };
  if (language === 'python') lexPython(text, facts);
  else lexJs(text, facts);
  return facts;
}

function lexPython(text: string, { openAt, closing, closesAt }: LineFacts): void {
  const stack: Frame[] = [];
  let line = 0;
  let logicalStart = -1;
  let lastSignificant = '';
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text[i]!;
    if (c === '\n') {
      line++;
      if (line < openAt.length) {
        if (stack.length > 0) openAt[line] = stack[stack.length - 1]!.at;
        else if (lastSignificant === '\\') openAt[line] = logicalStart;
      }
      if (stack.length === 0 && lastSignificant !== '\\') logicalStart = -1;
      lastSignificant = '';
      i++;
      continue;
    }
    if (c !== ' ' && c !== '\t' && c !== '\r' && logicalStart < 0) logicalStart = i;
    if (c === '#') {
      while (i < n && text[i] !== '\n') i++;
      continue;
    }
    if (c === '"' || c === "'") {
      const triple = text[i + 1] === c && text[i + 2] === c;
      const start = i;
      i += triple ? 3 : 1;
      while (i < n) {
        const d = text[i]!;
        if (d === '\\') {
          i += 2;
          continue;
        }
        if (d === '\n') {
          if (!triple) break;
          line++;
          if (line < openAt.length) openAt[line] = start;
        } else if (d === c && (!triple || (text[i + 1] === c && text[i + 2] === c))) {
          i += triple ? 3 : 1;
          break;
        }
        i++;
      }
      lastSignificant = c;
      continue;
    }
    if (c === '(' || c === '[' || c === '{') stack.push({ kind: c, at: i });
    else if ((c === ')' || c === ']' || c === '}') && stack.length > 0) {
      const opened = stack.pop()!;
      if (closing[line] && closesAt[line] === -1) closesAt[line] = opened.at;
    }
    if (c !== ' ' && c !== '\t' && c !== '\r') lastSignificant = c;
    i++;
  }
}

function lexJs(text: string, { openAt, closing, closesAt }: LineFacts): void {
  const stack: Frame[] = [];
  let line = 0;
  const n = text.length;
  let i = 0;
  const newline = (): void => {
    line++;
    if (line >= openAt.length) return;
    const top = stack[stack.length - 1];
    if (top && top.kind !== '{block' && top.kind !== '${') openAt[line] = top.at;
  };
  const previousToken = (at: number): string => {
    let j = at - 1;
    while (j >= 0 && /\s/.test(text[j]!)) j--;
    return j < 0 ? '' : text.slice(Math.max(0, j - 9), j + 1);
  };
  while (i < n) {
    const top = stack[stack.length - 1];
    const c = text[i]!;
    if (top?.kind === 'tpl') {
      if (c === '\\') i += 2;
      else if (c === '`') {
        stack.pop();
        i++;
      } else if (c === '$' && text[i + 1] === '{') {
        stack.push({ kind: '${', at: i });
        i += 2;
      } else {
        if (c === '\n') newline();
        i++;
      }
      continue;
    }
    if (c === '\n') {
      newline();
      i++;
      continue;
    }
    if (c === '/' && text[i + 1] === '/') {
      while (i < n && text[i] !== '\n') i++;
      continue;
    }
    if (c === '/' && text[i + 1] === '*') {
      const start = i;
      i += 2;
      while (i < n && !(text[i] === '*' && text[i + 1] === '/')) {
        if (text[i] === '\n') {
          line++;
          if (line < openAt.length) openAt[line] = start;
        }
        i++;
      }
      i += 2;
      continue;
    }
    if (c === '"' || c === "'") {
      i++;
      while (i < n && text[i] !== c && text[i] !== '\n') i += text[i] === '\\' ? 2 : 1;
      if (text[i] === c) i++;
      continue;
    }
    if (c === '`') {
      stack.push({ kind: 'tpl', at: i });
      i++;
      continue;
    }
    if (c === '(' || c === '[') stack.push({ kind: c, at: i });
    else if (c === '{') {
      const before = previousToken(i);
      const last = before[before.length - 1] ?? '';
      const objectLiteral = EXPRESSION_BEFORE.has(last) || EXPRESSION_KEYWORDS.test(before);
      stack.push({ kind: objectLiteral && !before.endsWith('=>') ? '{' : '{block', at: i });
    } else if ((c === ')' || c === ']' || c === '}') && stack.length > 0) {
      const opened = stack.pop()!;
      if (closing[line] && closesAt[line] === -1) closesAt[line] = opened.at;
    }
    i++;
  }
}
