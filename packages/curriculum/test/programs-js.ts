export const JS_ELSE_CHAIN = `function grade(score) {
  // if (comment) { not code }
  if (score >= 90) {
    return 'A';
  } else if (score >= 80) {
    return 'B';
  } else {
    return 'F';
  }
}
`;

export const JS_LOOPS_TRY = `const fs = require('fs');

function readAll(paths) {
  const out = [];
  for (const p of paths) {
    try {
      out.push(fs.readFileSync(p, 'utf8'));
    } catch (e) {
      continue;
    } finally {
      count++;
    }
  }
  let i = 0;
  while (i < out.length) i++;
  do {
    i--;
  } while (i > 0);
  for (let j = 0; j < 3; j++) {}
  for (const k in out) {}
  return out;
}
`;

export const JS_SWITCH_TEMPLATE = `const render = (kind, x) => {
  const s = \`line one
if (x) { not code }
\${x}\`; if (x) { return s; }
  /* a block comment
  for (;;) {}
  */
  switch (kind) {
    case 'a':
      return 1;
    case 'b': {
      return 2;
    }
    default:
      return s;
  }
};
`;

export const JS_CLASS = `export class Stack {
  items = [];
  push = (x) => {
    this.items.push(x);
  };
  pop() {
    if (this.items.length === 0) throw new Error('empty');
    return this.items.pop();
  }
  static from(xs) {
    const s = new Stack();
    for (const x of xs) s.push(x);
    return s;
  }
}

export function top(s) {
  return s.items[s.items.length - 1];
}

module.exports.helper = function (a) {
  return a;
};
`;

export const TS_TYPES = `interface Pair<T> {
  left: T;
  right: T;
}

type Cmp<T> = (a: T, b: T) => number;

@sealed
class Sorter<T> {
  constructor(private readonly cmp: Cmp<T>) {}

  @logged
  sort(xs: T[]): T[] {
    const out = [...xs];
    for (let i = 1; i < out.length; i++) {
      let j = i;
      while (j > 0 && this.cmp(out[j - 1] as T, out[j] as T) > 0) {
        [out[j - 1], out[j]] = [out[j] as T, out[j - 1] as T];
        j--;
      }
    }
    return out;
  }
}

const pairs: Pair<number>[] = [];
if (pairs.length > 0) {
  console.log(new Sorter<number>((a, b) => a - b).sort([3, 1, 2]));
}
`;
