import { type ParserPlugin, parse } from '@babel/parser';
import { jsLineStartOf } from './line-starts.js';

interface BabelNode {
  type: string;
  start: number;
  end: number;
  [key: string]: unknown;
}

interface BabelToken {
  start: number;
  end: number;
  type: { label?: string } | string;
}

export type JsPointsResult = { ok: true; points: number[] } | { ok: false; error: string };

const LOOPS_AND_BLOCKS = new Set([
  'IfStatement',
  'ForStatement',
  'ForInStatement',
  'ForOfStatement',
  'WhileStatement',
  'DoWhileStatement',
  'WithStatement',
  'SwitchStatement',
  'SwitchCase',
  'TryStatement',
  'CatchClause',
]);

const DEFINITIONS = new Set([
  'FunctionDeclaration',
  'ClassDeclaration',
  'ClassMethod',
  'ClassPrivateMethod',
  'ObjectMethod',
]);

const FUNCTION_VALUES = new Set(['FunctionExpression', 'ArrowFunctionExpression', 'ClassExpression']);

/** Keys of babel nodes that never hold child nodes worth visiting. */
const SKIP_KEYS = new Set(['loc', 'extra', 'leadingComments', 'trailingComments', 'innerComments', 'range']);

function isNode(value: unknown): value is BabelNode {
  return typeof value === 'object' && value !== null && typeof (value as BabelNode).type === 'string';
}

function labelOf(token: BabelToken): string {
  return typeof token.type === 'string' ? token.type : (token.type.label ?? '');
}

/** Where a definition begins: its first decorator, or the `export` that wraps it. */
function definitionStart(node: BabelNode): number {
  const decorators = node.decorators as BabelNode[] | undefined;
  const first = decorators?.[0]?.start;
  return first !== undefined && first < node.start ? first : node.start;
}

/** A statement that defines a function or class by value: `const f = () => {…}`, `x.f = function…`. */
function definesFunction(node: BabelNode): boolean {
  if (node.type === 'VariableDeclaration') {
    const decls = node.declarations as BabelNode[];
    return decls.length === 1 && isNode(decls[0]?.init) && FUNCTION_VALUES.has(decls[0].init.type);
  }
  if (node.type === 'ExpressionStatement') {
    const expr = node.expression as BabelNode;
    return expr.type === 'AssignmentExpression' && FUNCTION_VALUES.has((expr.right as BabelNode).type);
  }
  if (node.type === 'ClassProperty' || node.type === 'ClassPrivateProperty') {
    return isNode(node.value) && FUNCTION_VALUES.has(node.value.type);
  }
  return false;
}

/**
 * Raw split positions of a JavaScript/TypeScript program (babel 7): the start of each
 * if/else, loop, switch/case, try/catch/finally, with, and function/class definition (at its first
 * decorator or its `export`), each moved to the start of its line. A line start is kept only when
 * it is lexically a statement boundary: no token or comment spans it (template literals, block
 * comments) and everything between it and the construct is `}` (as in `} else {`).
 */
export function splitJavaScript(source: string, typescript: boolean): JsPointsResult {
  const plugins: ParserPlugin[] = typescript ? ['typescript', 'decorators-legacy'] : ['decorators-legacy'];
  let ast: { program: BabelNode; tokens?: BabelToken[]; comments?: BabelToken[] };
  try {
    ast = parse(source, {
      sourceType: 'unambiguous',
      plugins,
      tokens: true,
      allowReturnOutsideFunction: true,
      allowAwaitOutsideFunction: true,
      errorRecovery: false,
    }) as unknown as typeof ast;
  } catch (err) {
    const e = err as { message?: string };
    return { ok: false, error: `SyntaxError: ${e.message ?? String(err)}` };
  }
  const tokens = (ast.tokens ?? []).filter((t) => !labelOf(t).startsWith('Comment'));
  const spans = [...tokens, ...(ast.comments ?? [])].sort((a, b) => a.start - b.start);
  const starts: number[] = [];

  const keywordBetween = (from: number, to: number, keyword: string): number | undefined => {
    for (let i = firstTokenAtOrAfter(tokens, from); i < tokens.length; i++) {
      const t = tokens[i]!;
      if (t.start >= to) break;
      if (labelOf(t) === keyword) return t.start;
    }
    return undefined;
  };

  const visit = (node: BabelNode, parent: BabelNode | undefined): void => {
    if (LOOPS_AND_BLOCKS.has(node.type) || DEFINITIONS.has(node.type)) {
      // `export function f` / `export default class` start at `export`, `outer: for` at its label.
      const wrapped = parent && /^(Export(Named|Default)Declaration|LabeledStatement)$/.test(parent.type);
      starts.push(wrapped ? parent.start : definitionStart(node));
    } else if (definesFunction(node)) {
      const wrapped = parent && parent.type === 'ExportNamedDeclaration';
      starts.push(wrapped ? parent.start : definitionStart(node));
    }
    if (node.type === 'IfStatement' && isNode(node.alternate)) {
      const at = keywordBetween((node.consequent as BabelNode).end, node.alternate.start, 'else');
      if (at !== undefined) starts.push(at);
    }
    if (node.type === 'TryStatement' && isNode(node.finalizer)) {
      const from = isNode(node.handler) ? node.handler.end : (node.block as BabelNode).end;
      const at = keywordBetween(from, node.finalizer.start, 'finally');
      if (at !== undefined) starts.push(at);
    }
    for (const key of Object.keys(node)) {
      if (SKIP_KEYS.has(key)) continue;
      const value = node[key];
      if (Array.isArray(value)) {
        for (const child of value) if (isNode(child)) visit(child, node);
      } else if (isNode(value)) {
        visit(value, node);
      }
    }
  };
  visit(ast.program, undefined);

  const points = new Set<number>();
  for (const start of starts) {
    const lineStart = jsLineStartOf(source, start);
    if (isBoundary(source, spans, tokens, lineStart, start)) points.add(lineStart);
  }
  return { ok: true, points: [...points].sort((a, b) => a - b) };
}

/** Index of the first token whose start is `>= offset` (binary search over sorted tokens). */
function firstTokenAtOrAfter(tokens: readonly BabelToken[], offset: number): number {
  let lo = 0;
  let hi = tokens.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (tokens[mid]!.start < offset) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function isBoundary(
  source: string,
  spans: readonly BabelToken[],
  tokens: readonly BabelToken[],
  lineStart: number,
  constructStart: number,
): boolean {
  // Inside a template literal or block comment that began on an earlier line? Spans do not
  // overlap, so only the last one starting before the line can cover it.
  const before = spans[firstTokenAtOrAfter(spans, lineStart) - 1];
  if (before && before.end > lineStart) return false;
  // Only closing braces may precede the construct on its line: `} else {`, `} catch (e) {`.
  for (let k = firstTokenAtOrAfter(tokens, lineStart); k < tokens.length; k++) {
    const t = tokens[k]!;
    if (t.start >= constructStart) break;
    if (labelOf(t) !== '}' || source.slice(t.start, t.end) !== '}') return false;
  }
  return true;
}
