import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { cpuGemmSupport, type GemmPath, loadNativeKernels } from '../src/index.js';

/*
 * The vectorised native Adam (native/gemm.c gemm_adam) on every code path, bit for bit against
 * (1) tfjs's own AdamOptimizer on its CPU backend (float32 typed arrays, one rounding per op),
 * when @stepcoder/model's tfjs-backend-cpu resolves from this checkout, and (2) the same
 * arithmetic in JavaScript with Math.fround, and (3) the scalar reference loop. Sizes leave tails
 * on every vector width; gradients span zeros, tiny and large magnitudes and both signs.
 */

const support = cpuGemmSupport();
const PATHS: ReadonlyArray<GemmPath | 'scalar'> = ['scalar', ...support.gemmPaths];
const native = loadNativeKernels();
/** adam with its optional 13th argument, the code path. */
const adamOn = native.adam as (...args: unknown[]) => void;

afterAll(() => {
  loadNativeKernels();
});

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 31 - 1;
  };
}

/** Gradients with zeros, tiny and large magnitudes (step-dependent). */
function gradients(n: number, step: number): Float32Array {
  const r = lcg(100 + step);
  const g = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const u = r();
    const scale = [1, 1e-3, 1e-7, 30, 0][(i + step) % 5]!;
    g[i] = u * scale;
  }
  return g;
}

const N = 3001; // tails on 4-, 8- and 16-wide paths
const STEPS = 4;
const HP = { lr: 0.01, b1: 0.9, b2: 0.999, eps: 1e-8 };

function initial(n: number): Float32Array {
  const r = lcg(7);
  return Float32Array.from({ length: n }, () => r() * 2);
}

/** Native Adam on `path` (undefined: the 12-argument call); returns x, m, v after STEPS steps. */
function runNative(path: GemmPath | 'scalar' | undefined, n = N): Float32Array[] {
  const sizes = [n, n, n, n];
  const offsets: number[] = [];
  let at = 4 * 5; // a 4-byte-aligned, not 16-byte-aligned start
  for (const s of sizes) {
    offsets.push(at);
    at += s * 4 + 4 * 3;
  }
  const heap = new ArrayBuffer(at + 64);
  const [x, g, m, v] = offsets.map((o, i) => new Float32Array(heap, o, sizes[i]!)) as [
    Float32Array,
    Float32Array,
    Float32Array,
    Float32Array,
  ];
  x.set(initial(n));
  const f = Math.fround;
  let acc1 = f(HP.b1);
  let acc2 = f(HP.b2);
  for (let step = 0; step < STEPS; step++) {
    g.set(gradients(n, step));
    const args = [
      heap,
      n,
      offsets[0],
      offsets[1],
      offsets[2],
      offsets[3],
      HP.lr,
      HP.b1,
      HP.b2,
      HP.eps,
      acc1,
      acc2,
    ];
    if (path === undefined) adamOn(...args);
    else adamOn(...args, path);
    acc1 = f(acc1 * f(HP.b1));
    acc2 = f(acc2 * f(HP.b2));
  }
  return [x.slice(), m.slice(), v.slice()];
}

/** tfjs's AdamOptimizer arithmetic, one float32 rounding per op, in its order. */
function runFround(n = N): Float32Array[] {
  const f = Math.fround;
  const x = initial(n);
  const m = new Float32Array(n);
  const v = new Float32Array(n);
  let acc1 = f(HP.b1);
  let acc2 = f(HP.b2);
  for (let step = 0; step < STEPS; step++) {
    const g = gradients(n, step);
    const d1 = f(1 - acc1);
    const d2 = f(1 - acc2);
    for (let i = 0; i < n; i++) {
      const gi = g[i]!;
      m[i] = f(f(m[i]! * f(HP.b1)) + f(gi * f(1 - HP.b1)));
      v[i] = f(f(v[i]! * f(HP.b2)) + f(f(gi * gi) * f(1 - HP.b2)));
      const upd = f(f(f(m[i]! / d1) / f(f(Math.sqrt(f(v[i]! / d2))) + f(HP.eps))) * f(-HP.lr));
      x[i] = f(upd + x[i]!);
    }
    acc1 = f(acc1 * f(HP.b1));
    acc2 = f(acc2 * f(HP.b2));
  }
  return [x, m, v];
}

/** Bitwise equality (tells −0 from 0 and compares NaN payloads). */
function expectBits(got: Float32Array, want: Float32Array, label: string): void {
  expect(got.length).toBe(want.length);
  const a = new Uint32Array(got.buffer, got.byteOffset, got.length);
  const b = new Uint32Array(want.buffer, want.byteOffset, want.length);
  for (let i = 0; i < a.length; i++)
    if (a[i] !== b[i]) throw new Error(`${label}[${i}]: ${got[i]} vs ${want[i]}`);
}

/** tfjs-backend-cpu from @stepcoder/model's dependencies, when this checkout has them. */
function tfjsCpuEntry(): string | null {
  try {
    const modelPkg = fileURLToPath(new URL('../../model/package.json', import.meta.url));
    if (!existsSync(modelPkg)) return null;
    return createRequire(modelPkg).resolve('@tensorflow/tfjs-backend-cpu');
  } catch {
    return null;
  }
}

describe('native Adam, vectorised', () => {
  const reference = runFround();

  for (const path of PATHS) {
    it(`${path}: bit-identical to tfjs's float32 arithmetic over ${STEPS} steps of ${N} elements`, () => {
      const [x, m, v] = runNative(path);
      expectBits(x!, reference[0]!, `${path} x`);
      expectBits(m!, reference[1]!, `${path} m`);
      expectBits(v!, reference[2]!, `${path} v`);
    });
  }

  it('every length 0..40 (all tails) agrees with the scalar loop; the default call too', () => {
    for (let n = 0; n <= 40; n++) {
      const want = runNative('scalar', n);
      for (const path of [...support.gemmPaths, undefined]) {
        const got = runNative(path, n);
        for (let t = 0; t < 3; t++) expectBits(got[t]!, want[t]!, `${path ?? 'default'} n=${n} #${t}`);
      }
    }
  });

  it('refuses an unknown path', () => {
    const heap = new ArrayBuffer(64);
    expect(() => adamOn(heap, 1, 0, 4, 8, 12, 0.1, 0.9, 0.999, 1e-8, 0.9, 0.999, 'sse9')).toThrow(
      /unknown GEMM path/,
    );
  });

  const entry = tfjsCpuEntry();
  it.skipIf(entry === null)("bit-identical to tfjs's AdamOptimizer on the CPU backend", async () => {
    const tf = await import('@tensorflow/tfjs-core');
    await import(entry!);
    const before = tf.getBackend();
    await tf.setBackend('cpu');
    try {
      const value = tf.variable(tf.tensor1d(initial(N)), true, `adam_bits_${Math.random()}`);
      const opt = tf.train.adam(HP.lr, HP.b1, HP.b2, HP.eps);
      for (let step = 0; step < STEPS; step++) {
        const g = tf.tensor1d(gradients(N, step));
        opt.applyGradients([{ name: value.name, tensor: g }]);
        g.dispose();
      }
      const tfx = value.dataSync() as Float32Array;
      const weights = await opt.getWeights();
      // [iterations, m, v]
      const tfm = weights[1]!.tensor.dataSync() as Float32Array;
      const tfv = weights[2]!.tensor.dataSync() as Float32Array;
      expectBits(reference[0]!, tfx, 'fround vs tfjs x');
      expectBits(reference[1]!, tfm, 'fround vs tfjs m');
      expectBits(reference[2]!, tfv, 'fround vs tfjs v');
      for (const path of PATHS) {
        const [x, m, v] = runNative(path);
        expectBits(x!, tfx, `${path} x`);
        expectBits(m!, tfm, `${path} m`);
        expectBits(v!, tfv, `${path} v`);
      }
      opt.dispose();
      value.dispose();
    } finally {
      if (before) await tf.setBackend(before).catch(() => undefined);
    }
  });
});
