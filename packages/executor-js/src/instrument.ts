import { parse } from '@babel/parser';
import { VISITOR_KEYS } from '@babel/types';
import type libCoverage from 'istanbul-lib-coverage';

/*
 * Coverage instrumentation for programs seen once (every RL rollout is a new program).
 *
 * istanbul-lib-instrument runs @babel/core: parse, @babel/traverse with its visitor, then
 * @babel/generator over the whole tree — ~6.6 ms per HumanEval-sized program on this machine, of
 * which parsing is ~0.2 ms; traverse and generate are the rest. This module builds the same
 * istanbul file coverage (statementMap, fnMap, branchMap, in the same order, with the same
 * locations and the same `istanbul ignore` hints) from one @babel/parser parse and a plain
 * recursive walk in babel's visitor-key order, and inserts the counters into the original text
 * at node offsets instead of regenerating it. Lines keep their numbers (the counters object is
 * declared on the first line), so errors point at the candidate's own lines.
 *
 * What each counter counts is what istanbul's visitor (lib-instrument 6, visitor.js) counts: a
 * statement before it runs, a declarator's or class property's initialiser (in a comma
 * expression; hoisted before the declaration for function/class initialisers in a statement
 * list, as istanbul does to keep name inference), an expression-bodied arrow's body, a function
 * on entry (after its directives), each arm of if / ?: / switch / default values / the leaves of
 * && || ??. One deliberate difference: the statement counter of a labelled loop goes before the
 * label (istanbul wraps the loop in a block, which makes `continue label` a syntax error, so such
 * programs ran uncovered).
 */

export type FileCoverageData = libCoverage.FileCoverageData;
type Location = libCoverage.Range;

/** Babel AST node, loosely typed: this walker only reads type, offsets, loc and child keys. */
interface Node {
  type: string;
  start: number;
  end: number;
  loc: { start: { line: number; column: number }; end: { line: number; column: number } };
  leadingComments?: Array<{ value: string }> | null;
  directives?: Node[];
  extra?: { parenthesized?: boolean };
  [key: string]: unknown;
}

const COMMENT_RE = /^\s*istanbul\s+ignore\s+(if|else|next)(?=\W|$)/;
const COMMENT_FILE_RE = /^\s*istanbul\s+ignore\s+(file)(?=\W|$)/;

/** istanbul's parser options (@istanbuljs/schema defaults, sourceType script). */
const PARSER_PLUGINS = [
  'asyncGenerators',
  'bigInt',
  'classProperties',
  'classPrivateProperties',
  'classPrivateMethods',
  'dynamicImport',
  'importMeta',
  'numericSeparator',
  'objectRestSpread',
  'optionalCatchBinding',
  'topLevelAwait',
] as const;

const STATEMENTS = new Set([
  'ExpressionStatement',
  'BreakStatement',
  'ContinueStatement',
  'DebuggerStatement',
  'ReturnStatement',
  'ThrowStatement',
  'TryStatement',
  'IfStatement',
  'ForStatement',
  'ForInStatement',
  'ForOfStatement',
  'WhileStatement',
  'DoWhileStatement',
  'SwitchStatement',
  'WithStatement',
  'LabeledStatement',
]);
const FUNCTIONS = new Set([
  'ArrowFunctionExpression',
  'ClassMethod',
  'ObjectMethod',
  'FunctionDeclaration',
  'FunctionExpression',
]);
/** Node types istanbul's codeVisitor lists: only these run its enter/exit (ignore hints). */
const VISITED = new Set([
  ...STATEMENTS,
  ...FUNCTIONS,
  'AssignmentPattern',
  'BlockStatement',
  'ExportDefaultDeclaration',
  'ExportNamedDeclaration',
  'ClassDeclaration',
  'ClassProperty',
  'ClassPrivateProperty',
  'VariableDeclaration',
  'VariableDeclarator',
  'SwitchCase',
  'ConditionalExpression',
  'LogicalExpression',
]);
/** Bodies that istanbul turns into blocks (blockProp) before counting inside them. */
const BLOCK_PROPS: Record<string, readonly string[]> = {
  IfStatement: ['consequent', 'alternate'],
  ForStatement: ['body'],
  ForInStatement: ['body'],
  ForOfStatement: ['body'],
  WhileStatement: ['body'],
  DoWhileStatement: ['body'],
  WithStatement: ['body'],
};

/** Names of the three counter objects in the instrumented program. */
const S = '__stepcoder_s';
const F = '__stepcoder_f';
const B = '__stepcoder_b';

interface Insertion {
  at: number;
  /** Closing text goes before opening text at one offset. */
  close: boolean;
  /** Tree depth: opens outer-first, closes inner-first. */
  depth: number;
  seq: number;
  text: string;
}

function cloneLocation(loc: Node['loc'] | undefined): Location {
  return {
    start: { line: loc?.start.line as number, column: loc?.start.column as number },
    end: { line: loc?.end.line as number, column: loc?.end.column as number },
  };
}

function hintFor(node: Node): string | null {
  let hint: string | null = null;
  for (const c of node.leadingComments ?? []) {
    const m = (c.value || '').trim().match(COMMENT_RE);
    if (m) hint = m[1]!;
  }
  return hint;
}

class Instrumenter {
  readonly data: FileCoverageData;
  private readonly inserts: Insertion[] = [];
  private seq = 0;
  private nextIgnore: Node | null = null;
  private readonly skipAll = new Set<Node>();
  /** Bodies this walk wrapped in braces (istanbul's makeBlock). */
  private readonly wrapped = new Set<Node>();
  private readonly switchBranch = new Map<Node, number>();

  constructor(path: string) {
    this.data = { path, statementMap: {}, fnMap: {}, branchMap: {}, s: {}, f: {}, b: {} };
  }

  private insert(at: number, text: string, depth: number, close = false): void {
    this.inserts.push({ at, close, depth, seq: this.seq++, text });
  }

  private newStatement(loc: Node['loc']): number {
    const id = Object.keys(this.data.s).length;
    this.data.statementMap[id] = cloneLocation(loc);
    this.data.s[id] = 0;
    return id;
  }

  private newFunction(name: string | undefined, decl: Node['loc'], loc: Node['loc']): number {
    const id = Object.keys(this.data.f).length;
    this.data.fnMap[id] = {
      name: name || `(anonymous_${id})`,
      decl: cloneLocation(decl),
      loc: cloneLocation(loc),
      line: loc?.start.line,
    } as libCoverage.FunctionMapping;
    this.data.f[id] = 0;
    return id;
  }

  private branches = 0;

  private newBranch(type: string, loc: Node['loc']): number {
    const id = this.branches++;
    this.data.b[id] = [];
    this.data.branchMap[id] = {
      loc: cloneLocation(loc),
      type,
      locations: [],
      line: loc?.start.line,
    } as libCoverage.BranchMapping;
    return id;
  }

  private addBranchPath(id: number, loc: Node['loc'] | undefined): number {
    this.data.branchMap[id]!.locations.push(cloneLocation(loc));
    this.data.b[id]!.push(0);
    return this.data.b[id]!.length - 1;
  }

  /** `(counter, expr)`: count an expression right before it is evaluated. */
  private wrapExpression(node: Node, counter: string, depth: number): void {
    this.insert(node.start, `(${counter}, `, depth);
    this.insert(node.end, ')', depth, true);
  }

  walk(node: Node, parent: Node | null, key: string, inList: boolean, depth: number): void {
    const visited = VISITED.has(node.type);
    let active = false;
    if (visited) {
      active = this.enter(node);
      if (active) this.cover(node, parent, key, inList, depth);
    }
    this.children(node, depth);
    if (visited && node === this.nextIgnore) this.nextIgnore = null;
  }

  private children(node: Node, depth: number): void {
    for (const k of VISITOR_KEYS[node.type] ?? []) {
      const child = node[k];
      if (Array.isArray(child)) {
        for (const c of child)
          if (c && typeof (c as Node).type === 'string') this.walk(c as Node, node, k, true, depth + 1);
      } else if (child && typeof (child as Node).type === 'string') {
        if (
          node.type === 'ArrowFunctionExpression' &&
          k === 'body' &&
          (child as Node).type !== 'BlockStatement'
        ) {
          this.arrowExpressionBody(child as Node, depth + 1);
        } else {
          this.walk(child as Node, node, k, false, depth + 1);
        }
      }
    }
  }

  /** istanbul's onEnter + shouldIgnore: false when this node's visitor must not run. */
  private enter(node: Node): boolean {
    if (this.nextIgnore !== null) return false;
    if (hintFor(node) === 'next') {
      this.nextIgnore = node;
      return false;
    }
    if (this.skipAll.has(node)) {
      this.nextIgnore = node;
      return false;
    }
    return true;
  }

  /**
   * An arrow's expression body, which istanbul rewrites to `{ return body }` (a generated block
   * and a return statement located at the body) before counting it.
   */
  private arrowExpressionBody(body: Node, depth: number): void {
    if (this.nextIgnore === null) {
      const id = this.newStatement(body.loc);
      this.insert(body.start, `${S}[${id}]++, `, depth + 1);
    }
    this.walk(body, null, 'argument', false, depth + 2);
  }

  private statementCounter(
    node: Node,
    parent: Node | null,
    key: string,
    inList: boolean,
    depth: number,
  ): void {
    const id = this.newStatement(node.loc);
    const text = `${S}[${id}]++;`;
    if (inList || this.wrapped.has(node)) this.insert(node.start, text, depth);
    else if (parent?.type === 'LabeledStatement' && key === 'body') this.insert(parent.start, text, depth);
    else this.insert(node.start, text, depth); // not reached for valid JavaScript
  }

  private cover(node: Node, parent: Node | null, key: string, inList: boolean, depth: number): void {
    const props = BLOCK_PROPS[node.type];
    let elseCounter = '';
    if (props) {
      for (const prop of props) {
        const body = node[prop] as Node | null | undefined;
        if (body && body.type !== 'BlockStatement') {
          this.insert(body.start, '{', depth);
          this.wrapped.add(body);
        }
      }
    }
    switch (node.type) {
      case 'SwitchStatement':
        this.switchBranch.set(node, this.newBranch('switch', node.loc));
        this.statementCounter(node, parent, key, inList, depth);
        break;
      case 'SwitchCase': {
        const b = this.switchBranch.get(parent!)!;
        const i = this.addBranchPath(b, node.loc);
        const consequent = node.consequent as Node[];
        this.insert(consequent.length > 0 ? consequent[0]!.start : node.end, `${B}[${b}][${i}]++;`, depth);
        break;
      }
      case 'IfStatement':
        this.statementCounter(node, parent, key, inList, depth);
        elseCounter = this.ifBranches(node, depth);
        break;
      case 'VariableDeclarator':
        this.initialiser(node.init as Node | null, parent, depth);
        break;
      case 'ClassProperty':
      case 'ClassPrivateProperty': {
        const value = node.value as Node | null;
        if (value) this.wrapExpression(value, `${S}[${this.newStatement(value.loc)}]++`, depth + 1);
        break;
      }
      case 'AssignmentPattern': {
        const right = node.right as Node;
        const b = this.newBranch('default-arg', node.loc);
        const i = this.addBranchPath(b, right.loc);
        this.wrapExpression(right, `${B}[${b}][${i}]++`, depth + 1);
        break;
      }
      case 'ConditionalExpression':
        this.ternary(node, depth);
        break;
      case 'LogicalExpression':
        if (parent?.type !== 'LogicalExpression') this.logical(node, depth);
        break;
      default:
        if (STATEMENTS.has(node.type)) this.statementCounter(node, parent, key, inList, depth);
        else if (FUNCTIONS.has(node.type)) this.functionCounter(node, depth);
    }
    // Blocks this node wrapped close after everything inside them (inner closes first).
    if (props) {
      for (const prop of props) {
        const body = node[prop] as Node | null | undefined;
        if (body && this.wrapped.has(body)) this.insert(body.end, '}', depth, true);
      }
    }
    if (elseCounter) this.insert(node.end, ` else {${elseCounter}}`, depth, true);
  }

  /**
   * Branch paths of an if. A missing else becomes, as in istanbul, an empty block that counts the
   * path not taken; returns that counter's text (or '' when there is none to add).
   */
  private ifBranches(node: Node, depth: number): string {
    const hint = hintFor(node);
    const b = this.newBranch('if', node.loc);
    const consequent = node.consequent as Node;
    const alternate = node.alternate as Node | null;
    if (hint === 'if') this.skipAll.add(consequent);
    else this.branchInBlock(consequent, b, this.addBranchPath(b, node.loc), depth);
    if (hint === 'else') {
      if (alternate) this.skipAll.add(alternate);
      return '';
    }
    if (alternate) {
      this.branchInBlock(alternate, b, this.addBranchPath(b, alternate.loc), depth);
      return '';
    }
    return `${B}[${b}][${this.addBranchPath(b, undefined)}]++;`;
  }

  /** A branch counter at the top of a block (ours or the candidate's). */
  private branchInBlock(body: Node, b: number, i: number, depth: number): void {
    const at = this.wrapped.has(body) ? body.start : body.start + 1;
    this.insert(at, `${B}[${b}][${i}]++;`, depth);
  }

  private initialiser(init: Node | null, declaration: Node | null, depth: number): void {
    if (!init) return;
    const counter = `${S}[${this.newStatement(init.loc)}]++`;
    const hoist =
      (init.type === 'FunctionExpression' ||
        init.type === 'ArrowFunctionExpression' ||
        init.type === 'ClassExpression') &&
      declaration !== null &&
      this.declarationInBlock.has(declaration);
    if (hoist) this.insert(declaration!.start, `${counter};`, depth);
    else this.wrapExpression(init, counter, depth + 1);
  }

  /** VariableDeclarations whose parent is a Program or block body (istanbul hoists there). */
  readonly declarationInBlock = new Set<Node>();

  private functionCounter(node: Node, depth: number): void {
    const id = node.id as Node | null | undefined;
    const decl =
      (node.type === 'FunctionDeclaration' || node.type === 'FunctionExpression') && id
        ? id.loc
        : {
            start: node.loc.start,
            end: { line: node.loc.start.line, column: node.loc.start.column + 1 },
          };
    const body = node.body as Node;
    const name = id ? (id.name as string) : (node.name as string | undefined);
    const f = this.newFunction(name, decl, body.loc);
    if (body.type !== 'BlockStatement') {
      // Expression-bodied arrow: counted in a comma expression around the body.
      this.insert(body.start, `(${F}[${f}]++, `, depth);
      this.insert(body.end, ')', depth, true);
      return;
    }
    // After the directives ('use strict' must stay first); the `;` ends one written without.
    const directives = body.directives ?? [];
    if (directives.length > 0) this.insert(directives[directives.length - 1]!.end, `;${F}[${f}]++;`, depth);
    else this.insert(body.start + 1, `${F}[${f}]++;`, depth);
  }

  private ternary(node: Node, depth: number): void {
    const b = this.newBranch('cond-expr', node.loc);
    for (const arm of [node.consequent as Node, node.alternate as Node]) {
      if (hintFor(arm) === 'next') continue;
      const i = this.addBranchPath(b, arm.loc);
      this.wrapExpression(arm, `${B}[${b}][${i}]++`, depth + 1);
    }
  }

  private logical(node: Node, depth: number): void {
    const leaves: Array<{ node: Node; depth: number }> = [];
    const find = (n: Node, d: number) => {
      if (n.type === 'LogicalExpression') {
        if (hintFor(n) !== 'next') {
          find(n.left as Node, d + 1);
          find(n.right as Node, d + 1);
        }
      } else leaves.push({ node: n, depth: d });
    };
    find(node, depth);
    const b = this.newBranch('binary-expr', node.loc);
    for (const leaf of leaves) {
      if (hintFor(leaf.node) === 'next') continue;
      const i = this.addBranchPath(b, leaf.node.loc);
      this.wrapExpression(leaf.node, `${B}[${b}][${i}]++`, leaf.depth);
    }
  }

  /** istanbul's SourceCoverage.freeze: drop branches that got no path. */
  freeze(): void {
    for (const id of Object.keys(this.data.branchMap)) {
      if (this.data.branchMap[id]!.locations.length === 0) {
        delete this.data.branchMap[id];
        delete this.data.b[id];
      }
    }
  }

  apply(code: string, headerAt: number, header: string): string {
    this.insert(headerAt, header, -1);
    const order = [...this.inserts].sort(
      (x, y) =>
        x.at - y.at ||
        (x.close === y.close ? 0 : x.close ? -1 : 1) ||
        (x.close ? y.depth - x.depth : x.depth - y.depth) ||
        x.seq - y.seq,
    );
    const parts: string[] = [];
    let from = 0;
    for (const ins of order) {
      parts.push(code.slice(from, ins.at), ins.text);
      from = ins.at;
    }
    parts.push(code.slice(from));
    return parts.join('');
  }
}

function markDeclarations(node: Node, into: Set<Node>): void {
  // A declaration directly in a Program/BlockStatement body (or a body istanbul made a block).
  const visit = (n: Node, parentIsBlock: boolean) => {
    if (n.type === 'VariableDeclaration' && parentIsBlock) into.add(n);
    for (const k of VISITOR_KEYS[n.type] ?? []) {
      const child = n[k];
      const isBody =
        ((n.type === 'Program' || n.type === 'BlockStatement') && k === 'body') ||
        (BLOCK_PROPS[n.type]?.includes(k) ?? false);
      if (Array.isArray(child)) {
        for (const c of child) if (c && typeof (c as Node).type === 'string') visit(c as Node, isBody);
      } else if (child && typeof (child as Node).type === 'string') visit(child as Node, isBody);
    }
  };
  visit(node, false);
}

export interface Instrumented {
  code: string;
  initial: FileCoverageData;
}

/**
 * Instrument plain JavaScript (a classic script) for istanbul-format coverage; the counters live
 * at `globalThis[coverageVariable][path]` as `{ s, f, b }`. Throws on code babel cannot parse.
 */
export function instrumentFast(code: string, path: string, coverageVariable: string): Instrumented {
  const file = parse(code, {
    sourceType: 'script',
    allowReturnOutsideFunction: true,
    plugins: [...PARSER_PLUGINS],
  }) as unknown as { program: Node; comments?: Array<{ value: string }> };
  const program = file.program;
  const ins = new Instrumenter(path);
  const ignoreFile = (file.comments ?? []).some((c) => COMMENT_FILE_RE.test(c.value));
  if (!ignoreFile) {
    markDeclarations(program, ins.declarationInBlock);
    for (const statement of program.body as Node[]) ins.walk(statement, program, 'body', true, 1);
  }
  ins.freeze();
  const data = ins.data;
  const zeros = (o: Record<string, number>) =>
    `{${Object.keys(o)
      .map((k) => `${k}:0`)
      .join(',')}}`;
  const branchZeros = `{${Object.entries(data.b)
    .map(([k, v]) => `${k}:[${v.map(() => 0).join(',')}]`)
    .join(',')}}`;
  // One line, no newline: the candidate keeps its line numbers. The global object comes from a
  // Function constructor reached without any global name a candidate could shadow.
  const header =
    `var ${S}, ${F}, ${B}; (function () { var g = (function () {}).constructor('return this')();` +
    ` var all = g[${JSON.stringify(coverageVariable)}] || (g[${JSON.stringify(coverageVariable)}] = {});` +
    ` var c = all[${JSON.stringify(path)}] = { s: ${zeros(data.s)}, f: ${zeros(data.f)}, b: ${branchZeros} };` +
    ` ${S} = c.s; ${F} = c.f; ${B} = c.b; })();`;
  // After the directives (with a `;`, for one written without), else before the first statement
  // (after a `#!` line, which must stay first), else at the very start.
  const directives = program.directives ?? [];
  const body = program.body as Node[];
  const interpreter = (program as { interpreter?: Node | null }).interpreter;
  if (directives.length > 0)
    return { code: ins.apply(code, directives[directives.length - 1]!.end, `;${header}`), initial: data };
  const headerAt = interpreter ? (body[0]?.start ?? code.length) : 0;
  return { code: ins.apply(code, headerAt, header), initial: data };
}
