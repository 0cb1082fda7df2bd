import type { FunctionIR, Stmt } from './program.js';

/**
 * Canonical formatting of a function in each language: fixed indentation (4 spaces in Python,
 * 2 in JavaScript), no comments, no blank lines, one statement per line. Regularity matters: the
 * suite trains a small byte-level model from scratch.
 */

/** Names written more than once (or updated in place) need `let` in JavaScript; the rest `const`. */
function writeCounts(body: Stmt[], counts: Map<string, number>): void {
  for (const s of body) {
    switch (s.kind) {
      case 'assign':
      case 'aug':
        counts.set(s.name, (counts.get(s.name) ?? 0) + 1);
        break;
      case 'if':
        for (const arm of s.arms) writeCounts(arm.body, counts);
        if (s.otherwise) writeCounts(s.otherwise, counts);
        break;
      case 'forEach':
      case 'forRange':
      case 'while':
        writeCounts(s.body, counts);
        break;
      default:
        break;
    }
  }
}

function renderPyBlock(body: Stmt[], depth: number, out: string[]): void {
  const pad = '    '.repeat(depth);
  for (const s of body) {
    switch (s.kind) {
      case 'assign':
        out.push(`${pad}${s.name} = ${s.value.py}`);
        break;
      case 'aug':
        out.push(`${pad}${s.name} ${s.op}= ${s.value.py}`);
        break;
      case 'append':
        out.push(`${pad}${s.list}.append(${s.value.py})`);
        break;
      case 'return':
        out.push(`${pad}return ${s.value.py}`);
        break;
      case 'if':
        s.arms.forEach((arm, i) => {
          out.push(`${pad}${i === 0 ? 'if' : 'elif'} ${arm.cond.py}:`);
          renderPyBlock(arm.body, depth + 1, out);
        });
        if (s.otherwise) {
          out.push(`${pad}else:`);
          renderPyBlock(s.otherwise, depth + 1, out);
        }
        break;
      case 'forEach':
        out.push(`${pad}for ${s.item} in ${s.list.py}:`);
        renderPyBlock(s.body, depth + 1, out);
        break;
      case 'forRange': {
        const end = s.inclusive ? `${s.to.py} + 1` : s.to.py;
        const range = s.from === 0 ? `range(${end})` : `range(${s.from}, ${end})`;
        out.push(`${pad}for ${s.index} in ${range}:`);
        renderPyBlock(s.body, depth + 1, out);
        break;
      }
      case 'while':
        out.push(`${pad}while ${s.cond.py}:`);
        renderPyBlock(s.body, depth + 1, out);
        break;
    }
  }
}

interface JsScope {
  declared: Set<string>;
  writes: Map<string, number>;
}

function renderJsBlock(body: Stmt[], depth: number, scope: JsScope, out: string[]): void {
  const pad = '  '.repeat(depth);
  // Block scoping: names declared inside this block are forgotten when it ends.
  const before = new Set(scope.declared);
  const block = (inner: Stmt[]) => renderJsBlock(inner, depth + 1, scope, out);
  for (const s of body) {
    switch (s.kind) {
      case 'assign':
        if (scope.declared.has(s.name)) {
          out.push(`${pad}${s.name} = ${s.value.js};`);
        } else {
          scope.declared.add(s.name);
          const kw = (scope.writes.get(s.name) ?? 0) > 1 ? 'let' : 'const';
          out.push(`${pad}${kw} ${s.name} = ${s.value.js};`);
        }
        break;
      case 'aug':
        out.push(`${pad}${s.name} ${s.op}= ${s.value.js};`);
        break;
      case 'append':
        out.push(`${pad}${s.list}.push(${s.value.js});`);
        break;
      case 'return':
        out.push(`${pad}return ${s.value.js};`);
        break;
      case 'if':
        s.arms.forEach((arm, i) => {
          out.push(i === 0 ? `${pad}if (${arm.cond.js}) {` : `${pad}} else if (${arm.cond.js}) {`);
          block(arm.body);
        });
        if (s.otherwise) {
          out.push(`${pad}} else {`);
          block(s.otherwise);
        }
        out.push(`${pad}}`);
        break;
      case 'forEach':
        out.push(`${pad}for (const ${s.item} of ${s.list.js}) {`);
        block(s.body);
        out.push(`${pad}}`);
        break;
      case 'forRange': {
        const cmp = s.inclusive ? '<=' : '<';
        out.push(`${pad}for (let ${s.index} = ${s.from}; ${s.index} ${cmp} ${s.to.js}; ${s.index}++) {`);
        block(s.body);
        out.push(`${pad}}`);
        break;
      }
      case 'while':
        out.push(`${pad}while (${s.cond.js}) {`);
        block(s.body);
        out.push(`${pad}}`);
        break;
    }
  }
  scope.declared = before;
}

/** The signature line: `def f(xs):` / `function f(xs) {`. It is the problem's starterCode. */
export function signature(fn: FunctionIR, language: 'python' | 'javascript'): string {
  const params = fn.params.join(', ');
  return language === 'python' ? `def ${fn.name}(${params}):` : `function ${fn.name}(${params}) {`;
}

/** The whole function, one line per statement, ending with a newline. */
export function renderFunction(fn: FunctionIR, language: 'python' | 'javascript'): string {
  const out = [signature(fn, language)];
  if (language === 'python') {
    renderPyBlock(fn.body, 1, out);
  } else {
    const writes = new Map<string, number>();
    writeCounts(fn.body, writes);
    renderJsBlock(fn.body, 1, { declared: new Set(fn.params), writes }, out);
    out.push('}');
  }
  return `${out.join('\n')}\n`;
}
