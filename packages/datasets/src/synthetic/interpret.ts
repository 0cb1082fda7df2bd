import type { Env, FunctionIR, Stmt, Value } from './program.js';

/** Loops in the suite are bounded by small inputs; this guard turns a generator bug into an error. */
const MAX_STEPS = 100000;

interface Frame {
  steps: number;
  /** Set by `return`; every enclosing block stops as soon as it is. */
  returned?: Value;
}

function run(body: Stmt[], env: Env, frame: Frame): void {
  for (const s of body) {
    if (frame.returned !== undefined) return;
    if (++frame.steps > MAX_STEPS) throw new Error('synthetic program ran too long');
    switch (s.kind) {
      case 'assign':
        env.set(s.name, s.value.ev(env));
        break;
      case 'aug': {
        const cur = env.get(s.name) as number;
        const v = s.value.ev(env) as number;
        env.set(s.name, s.op === '+' ? cur + v : s.op === '-' ? cur - v : cur * v);
        break;
      }
      case 'append':
        (env.get(s.list) as Value[]).push(s.value.ev(env));
        break;
      case 'return':
        frame.returned = s.value.ev(env);
        return;
      case 'if': {
        const arm = s.arms.find((a) => a.cond.ev(env));
        if (arm) run(arm.body, env, frame);
        else if (s.otherwise) run(s.otherwise, env, frame);
        break;
      }
      case 'forEach':
        // Iterating a copy matches both languages for the lists the suite builds (never mutated while read).
        for (const item of [...(s.list.ev(env) as Value[] | string)]) {
          env.set(s.item, item);
          run(s.body, env, frame);
          if (frame.returned !== undefined) return;
        }
        break;
      case 'forRange': {
        const to = (s.to.ev(env) as number) + (s.inclusive ? 1 : 0);
        for (let i = s.from; i < to; i++) {
          env.set(s.index, i);
          run(s.body, env, frame);
          if (frame.returned !== undefined) return;
        }
        break;
      }
      case 'while':
        while (frame.returned === undefined && s.cond.ev(env)) run(s.body, env, frame);
        break;
    }
  }
}

function copy(v: Value[]): Value[] {
  return v.map((x) => (Array.isArray(x) ? copy(x) : x));
}

/** The value `fn(...args)` returns; arguments are deep-copied so the caller's inputs stay intact. */
export function interpret(fn: FunctionIR, args: Value[]): Value {
  const env: Env = new Map();
  fn.params.forEach((p, i) => {
    const arg = args[i]!;
    env.set(p, Array.isArray(arg) ? copy(arg) : arg);
  });
  const frame: Frame = { steps: 0 };
  run(fn.body, env, frame);
  if (frame.returned !== undefined) return frame.returned;
  throw new Error(`synthetic function ${fn.name} finished without returning`);
}
