/*
 * pnpm bench (this package): the built-in SGEMM against OpenBLAS at one thread on the GEMMs of
 * one training step (forward, backward; the calls `@stepcoder/model` makes through `sgemm`,
 * recorded from a real step) of
 *   - GPT2_MINI (384 wide, 6 layers, 6 heads, byte vocabulary) at batch 2 × 64 tokens, the
 *     model README's benchmark shape, and
 *   - the demo's model (examples/synthetic-python: 192 wide, 4 layers, 6 heads, BPE vocabulary
 *     1024) at an SFT batch of 16 × 96 tokens.
 * Every variant runs in its own child process (OpenBLAS reads OPENBLAS_CORETYPE and
 * OPENBLAS_NUM_THREADS once, when it loads), two rounds interleaved, best time per shape.
 * OpenBLAS is measured with the core type this environment pins (when it pins one, as the demo
 * runs) and with the core OpenBLAS picks itself.
 *
 * Then bench/gemv.ts: a KV-cache decode step's single-row products (built-in GEMV per path vs
 * OpenBLAS sgemv and sgemm, both core types) and Adam (scalar loop vs the vectorised paths).
 *
 *   pnpm --filter @stepcoder/native-kernels bench           # BENCH_ROUNDS=3 for more rounds
 *   BENCH_ONLY=gemm | BENCH_ONLY=gemv                       # one half
 */
import { execFileSync } from 'node:child_process';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { cpuGemmSupport, type GemmPath, loadNativeKernels } from '../src/index.js';
import { gemvBench } from './gemv.js';

interface Shape {
  batch: number;
  m: number;
  n: number;
  k: number;
  ta: boolean;
  tb: boolean;
  bias: boolean;
  count: number;
  what: string;
}

interface ModelShape {
  nEmbd: number;
  nHead: number;
  nLayer: number;
  vocabSize: number;
  nPositions: number;
}

/**
 * The GEMMs of one training step (next-token loss, backward, no value-head loss) as
 * `@stepcoder/model` issues them on wasm + native kernels: `[batch, m, n, k, op]` per call.
 */
function trainingGemms(c: ModelShape, B: number, T: number): Shape[] {
  const BT = B * T;
  const D = c.nEmbd;
  const hd = D / c.nHead;
  const BH = B * c.nHead;
  const L = c.nLayer;
  const V = c.vocabSize;
  const s = (
    what: string,
    count: number,
    batch: number,
    m: number,
    n: number,
    k: number,
    op: string,
    bias = false,
  ): Shape => ({ what, count, batch, m, n, k, ta: op[0] === 't', tb: op[1] === 't', bias });
  return [
    // forward
    s('c_attn x·W+b', L, 1, BT, 3 * D, D, 'nn', true),
    s('scores q·kᵀ', L, BH, T, T, hd, 'nt'),
    s('probs·v', L, BH, T, hd, T, 'nn'),
    s('attn proj x·W+b', L, 1, BT, D, D, 'nn', true),
    s('mlp fc x·W+b', L, 1, BT, 4 * D, D, 'nn', true),
    s('mlp proj x·W+b', L, 1, BT, D, 4 * D, 'nn', true),
    s('lm head x·wteᵀ', 1, 1, BT, V, D, 'nt'),
    s('value head', 1, 1, BT, 1, D, 'nt'),
    // backward
    s('lm head dx', 1, 1, BT, D, V, 'nn'),
    s('dwte (head, embedding)', 2, 1, V, D, BT, 'tn'),
    s('dwpe', 1, 1, c.nPositions, D, BT, 'tn'),
    s('mlp proj dx', L, 1, BT, 4 * D, D, 'nt'),
    s('mlp proj dW', L, 1, 4 * D, D, BT, 'tn'),
    s('mlp fc dx', L, 1, BT, D, 4 * D, 'nt'),
    s('mlp fc dW', L, 1, D, 4 * D, BT, 'tn'),
    s('attn proj dx', L, 1, BT, D, D, 'nt'),
    s('attn proj dW', L, 1, D, D, BT, 'tn'),
    s('c_attn dx', L, 1, BT, D, 3 * D, 'nt'),
    s('c_attn dW', L, 1, D, 3 * D, BT, 'tn'),
    s('dP = dout·vᵀ', L, BH, T, T, hd, 'nt'),
    s('dq = dS·k', L, BH, T, hd, T, 'nn'),
    s('dk, dv', 2 * L, BH, T, hd, T, 'tn'),
    s('bias grads 1ᵀ·dy (GEMV)', L, 1, 1, 4 * D, BT, 'nn'),
    s('bias grads 1ᵀ·dy (GEMV)', L, 1, 1, 3 * D, BT, 'nn'),
    s('bias/LN grads 1ᵀ·dy (GEMV)', 6 * L + 2, 1, 1, D, BT, 'nn'),
  ];
}

const MODELS: Array<{ name: string; config: ModelShape; batch: number; seq: number }> = [
  {
    name: 'GPT2_MINI, 2×64',
    config: { nEmbd: 384, nHead: 6, nLayer: 6, vocabSize: 258, nPositions: 512 },
    batch: 2,
    seq: 64,
  },
  {
    name: 'demo 4×192, 16×96',
    config: { nEmbd: 192, nHead: 6, nLayer: 4, vocabSize: 1024, nPositions: 256 },
    batch: 16,
    seq: 96,
  },
];

interface Variant {
  key: string;
  label: string;
  library: string; // 'blas' (default search) or 'builtin'
  gemmPath?: GemmPath;
  /** Clear OPENBLAS_CORETYPE so OpenBLAS picks its own kernels. */
  ownCore?: boolean;
}

interface ChildResult {
  library: string;
  config: string | null;
  threads: number;
  /** Seconds per call, per model, per shape (same order as trainingGemms). */
  seconds: number[][];
}

const flops = (s: Shape) => 2 * s.batch * s.m * s.n * s.k;

/** Child: load one GEMM and time every shape (best of 3 windows of ≥ 15 ms). */
function runChild(v: Variant): ChildResult {
  const k = loadNativeKernels({
    library: v.library === 'builtin' ? 'builtin' : undefined,
    ...(v.gemmPath ? { gemmPath: v.gemmPath } : {}),
    threads: 1,
  });
  const seconds = MODELS.map(({ config, batch, seq }) =>
    trainingGemms(config, batch, seq).map((s) => {
      const aN = s.batch * s.m * s.k;
      const bN = s.batch * s.k * s.n;
      const cN = s.batch * s.m * s.n;
      const heap = new ArrayBuffer(4 * (aN + bN + cN + s.n) + 256);
      const f = new Float32Array(heap);
      for (let i = 0; i < f.length; i++) f[i] = Math.sin(i) * 0.5;
      const aOff = 64;
      const bOff = aOff + aN * 4;
      const cOff = bOff + bN * 4;
      const biasOff = cOff + cN * 4;
      const run = () =>
        k.sgemm(
          heap,
          s.batch,
          s.m,
          s.n,
          s.k,
          s.ta,
          s.tb,
          aOff,
          s.batch > 1 ? s.m * s.k * 4 : 0,
          bOff,
          s.batch > 1 ? s.k * s.n * 4 : 0,
          cOff,
          s.m * s.n * 4,
          s.bias ? biasOff : -1,
        );
      run();
      let best = Number.POSITIVE_INFINITY;
      for (let r = 0; r < 3; r++) {
        let reps = 0;
        const t0 = performance.now();
        do {
          run();
          reps++;
        } while (performance.now() - t0 < 15);
        best = Math.min(best, (performance.now() - t0) / 1000 / reps);
      }
      return best;
    }),
  );
  return { library: k.library.name, config: k.library.config, threads: k.threads(), seconds };
}

const childArg = process.argv.indexOf('--child');
if (childArg >= 0) {
  const v = JSON.parse(process.argv[childArg + 1]!) as Variant;
  console.log(JSON.stringify(runChild(v)));
  process.exit(0);
}
if (process.env.BENCH_ONLY === 'gemv') {
  gemvBench();
  process.exit(0);
}

const support = cpuGemmSupport();
const pinned = process.env.OPENBLAS_CORETYPE;
const variants: Variant[] = [
  {
    key: 'blas',
    label: pinned ? `OpenBLAS (OPENBLAS_CORETYPE=${pinned}, as this environment runs)` : 'OpenBLAS',
    library: 'blas',
  },
  ...(pinned
    ? [{ key: 'blasOwn', label: 'OpenBLAS (its own core choice)', library: 'blas', ownCore: true }]
    : []),
  ...[...support.gemmPaths].reverse().map((p) => ({
    key: p,
    label: `built-in ${p}`,
    library: 'builtin',
    gemmPath: p,
  })),
];

const rounds = Number(process.env.BENCH_ROUNDS ?? 2);
const script = fileURLToPath(import.meta.url);
const results = new Map<string, ChildResult>();
const skipped: string[] = [];
for (let round = 0; round < rounds; round++) {
  for (const v of variants) {
    const env: NodeJS.ProcessEnv = { ...process.env, OPENBLAS_NUM_THREADS: '1', OMP_NUM_THREADS: '1' };
    if (v.ownCore) {
      delete env.OPENBLAS_CORETYPE;
      delete env.OPENBLAS_L2_SIZE;
    }
    let r: ChildResult;
    try {
      const out = execFileSync(
        process.execPath,
        [...process.execArgv, script, '--child', JSON.stringify(v)],
        {
          env,
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      r = JSON.parse(out.trim().split('\n').pop()!) as ChildResult;
    } catch (err) {
      skipped.push(`${v.label}: ${(err as Error).message.split('\n')[0]}`);
      continue;
    }
    const prev = results.get(v.key);
    if (prev) prev.seconds = prev.seconds.map((m, i) => m.map((t, j) => Math.min(t, r.seconds[i]![j]!)));
    else results.set(v.key, r);
  }
}

const blas = results.get('blas');
const blasIsBlas = blas && !/built-in/.test(blas.library);
const best = results.get(support.bestPath)!;
// The ratio column compares with the fastest OpenBLAS on this CPU: its own core choice when the
// environment pins another one.
const refKey = results.has('blasOwn') ? 'blasOwn' : 'blas';
const ref = results.get(refKey);
const refLabel = variants.find((v) => v.key === refKey)?.label ?? 'OpenBLAS';
const gf = (s: Shape, t: number) => (flops(s) / t / 1e9).toFixed(1);
const shown = variants.filter((v) => results.has(v.key));

console.log(
  `Built-in SGEMM vs OpenBLAS, 1 thread, on the GEMMs of one training step (${cpus()[0]?.model ?? 'unknown CPU'}, ` +
    `${availableParallelism()} cores shared with other jobs, load ${loadavg()[0]!.toFixed(2)}; best of ${rounds} rounds × 3 windows)`,
);
for (const [mi, model] of MODELS.entries()) {
  const shapes = trainingGemms(model.config, model.batch, model.seq);
  console.log(`\n### ${model.name}\n`);
  console.log(
    `| GEMM | calls | batch×M×N×K op | ${shown.map((v) => `${v.label} GFLOP/s`).join(' | ')} | built-in ${support.bestPath} / ${refLabel} |`,
  );
  console.log(`|---|---:|---|${shown.map(() => '---:|').join('')}---:|`);
  const totals = new Map<string, number>();
  let totalFlops = 0;
  for (const [si, s] of shapes.entries()) {
    totalFlops += flops(s) * s.count;
    const cells = shown.map((v) => {
      const t = results.get(v.key)!.seconds[mi]![si]!;
      totals.set(v.key, (totals.get(v.key) ?? 0) + t * s.count);
      return gf(s, t);
    });
    const ratio = ref ? (ref.seconds[mi]![si]! / best.seconds[mi]![si]!).toFixed(2) : '—';
    console.log(
      `| ${s.what}${s.bias ? '' : ''} | ${s.count} | ${s.batch}×${s.m}×${s.n}×${s.k} ${s.ta ? 't' : 'n'}${s.tb ? 't' : 'n'}${s.bias ? ' +bias' : ''} | ${cells.join(' | ')} | ${ratio}× |`,
    );
  }
  const tcells = shown.map(
    (v) =>
      `**${(totalFlops / totals.get(v.key)! / 1e9).toFixed(1)}** (${(totals.get(v.key)! * 1000).toFixed(1)} ms)`,
  );
  const tratio = ref ? (totals.get(refKey)! / totals.get(support.bestPath)!).toFixed(2) : '—';
  console.log(
    `| **whole step's GEMMs** | | ${(totalFlops / 1e9).toFixed(2)} GFLOP | ${tcells.join(' | ')} | **${tratio}×** |`,
  );
  // Whole-step ratios, time-weighted over the step's GEMMs (goal: built-in ≥ 0.7× OpenBLAS).
  const lines: string[] = [];
  const pair = (a: string, b: string, label: string) => {
    const ta = totals.get(a);
    const tb = totals.get(b);
    if (ta && tb) lines.push(`${label} = ${(tb / ta).toFixed(2)}×`);
  };
  pair(support.bestPath, 'blasOwn', `built-in ${support.bestPath} / OpenBLAS (own core)`);
  pair(support.bestPath, 'blas', `built-in ${support.bestPath} / ${variants[0]!.label}`);
  if (support.bestPath !== 'avx2') pair('avx2', 'blas', `built-in avx2 / ${variants[0]!.label}`);
  if (lines.length > 0) console.log(`\n${model.name}, whole step: ${lines.join('; ')}`);
}

console.log('\nHow each side was built:');
for (const v of shown) {
  const r = results.get(v.key)!;
  console.log(`- ${v.label}: ${r.library} — ${r.config ?? 'no build string'}; threads ${r.threads}`);
}
console.log(
  `- built-in: ${support.compiler}; ${support.flags}; blocking [MR, NR, MC, KC, NC] ${Object.entries(
    support.blocking,
  )
    .map(([p, b]) => `${p} ${JSON.stringify(b)}`)
    .join(', ')}; CPU ${support.arch} avx2=${support.avx2} fma=${support.fma} avx512f=${support.avx512f}`,
);
if (!blasIsBlas)
  console.log('- no system OpenBLAS on this machine: the "OpenBLAS" column is the built-in fallback');
for (const s of skipped) console.log(`- not measured: ${s}`);

if (process.env.BENCH_ONLY !== 'gemm') gemvBench();
