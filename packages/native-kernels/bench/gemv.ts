/*
 * The GEMV and Adam half of this package's bench (bench/gemm.ts runs it after the GEMM table;
 * `tsx bench/gemv.ts` runs it alone):
 *
 *   - one KV-cache decode step of LLAMA_MINI at batch 1 (hidden 384, 6 layers, GQA 6:2 so k/v
 *     project to 2 × 64, SwiGLU MLP 1024, untied 258-token head): its 43 single-row products,
 *     each on its own weight matrix (38 MB in all, cycled in step order, so the weights come
 *     from DRAM/L3 as they do in generation, never from a hot L2), as x·Wᵀ (W [N, K], the Llama
 *     layout, transB) and as x·W (W [K, N], GPT-2's Conv1D layout);
 *     the built-in GEMV on each path against OpenBLAS's sgemv and its sgemm at M = 1, 1 thread,
 *     with the core type this environment pins (OPENBLAS_CORETYPE) and with OpenBLAS's own
 *     choice. Every variant runs in its own process (OpenBLAS reads its environment once);
 *     STEPCODER_GEMV=sgemv|sgemm makes the addon hand M = 1 to OpenBLAS's sgemv or sgemm
 *     instead of the built-in GEMV it uses by default;
 *   - Adam over LLAMA_MINI's 9.64M parameters, one call per variable: the scalar loop the addon
 *     ran before against each vectorised path.
 *
 * µs per call are the best of several windows; GB/s is the weight bytes over that time. The
 * machine is shared: expect ±10% between runs.
 */
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { builtinGemm, cpuGemmSupport, type GemmPath, loadNativeKernels } from '../src/index.js';

interface Product {
  what: string;
  n: number;
  k: number;
  /** Calls per decode step. */
  count: number;
}

const L = 6;
const D = 384;
const KV = 2 * 64;
const F = 1024;
const V = 258;
const PRODUCTS: Product[] = [
  { what: 'q, o proj', n: D, k: D, count: 2 * L },
  { what: 'k, v proj', n: KV, k: D, count: 2 * L },
  { what: 'gate, up', n: F, k: D, count: 2 * L },
  { what: 'down', n: D, k: F, count: L },
  { what: 'lm head', n: V, k: D, count: 1 },
];
/** Step order: per layer q, k, v, o, gate, up, down; then the head. Indices into PRODUCTS. */
const STEP: number[] = [...Array.from({ length: L }, () => [0, 1, 1, 0, 2, 2, 3]).flat(), 4];

/** LLAMA_MINI's trainable variables (element counts), one Adam call each. */
const VARIABLES: number[] = [
  V * D, // embedding
  ...Array.from({ length: L }, () => [D, D * D, KV * D, KV * D, D * D, D, F * D, F * D, D * F]).flat(),
  D, // final norm
  V * D, // head
];

interface GemvVariant {
  key: string;
  label: string;
  /** 'builtin' runs builtinGemm on `path`; 'sgemv'/'sgemm' the loaded OpenBLAS through STEPCODER_GEMV. */
  kind: 'builtin' | 'sgemv' | 'sgemm';
  path?: GemmPath;
  ownCore?: boolean;
}

interface GemvResult {
  library: string;
  config: string | null;
  /** [op][product] seconds per call; op 0 = x·Wᵀ, 1 = x·W. */
  perCall: number[][];
  /** [op] seconds per whole step (no per-call timers). */
  step: number[];
}

interface AdamResult {
  /** path → seconds per Adam step over all variables. */
  seconds: Record<string, number>;
}

const now = () => performance.now() / 1000;

function gemvChild(v: GemvVariant): GemvResult {
  const k = loadNativeKernels({
    ...(v.kind === 'builtin' ? { library: 'builtin' as const, gemmPath: v.path } : {}),
    threads: 1,
  });
  if (v.kind !== 'builtin' && k.library.kind !== 'blas') throw new Error('no system BLAS');
  // One heap: 43 weight matrices (4-byte aligned, not 64, as in the wasm heap), x and y.
  const sizes = STEP.map((p) => PRODUCTS[p]!.n * PRODUCTS[p]!.k);
  const offsets: number[] = [];
  let at = 64 + 20;
  for (const s of sizes) {
    offsets.push(at);
    at += s * 4 + 20;
  }
  const xOff = at;
  const yOff = xOff + 4096 * 4 + 20;
  const heap = new ArrayBuffer(yOff + 4096 * 4 + 64);
  const f = new Float32Array(heap);
  let s = 12345;
  for (let i = 0; i < f.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    f[i] = s / 2 ** 32 - 0.5;
  }
  const call = (op: number, i: number) => {
    const { n, k: kk } = PRODUCTS[STEP[i]!]!;
    const tb = op === 0;
    const ldb = tb ? kk : n;
    if (v.kind === 'builtin')
      builtinGemm(heap, v.path!, false, tb, 1, n, kk, 1, xOff, kk, offsets[i]!, ldb, 0, yOff, n);
    else k.gemm(heap, false, tb, 1, n, kk, 1, xOff, kk, offsets[i]!, ldb, 0, yOff, n);
  };
  const perCall: number[][] = [];
  const step: number[] = [];
  for (let op = 0; op < 2; op++) {
    for (let i = 0; i < STEP.length; i++) call(op, i); // warm-up
    const best = PRODUCTS.map(() => Number.POSITIVE_INFINITY);
    let bestStep = Number.POSITIVE_INFINITY;
    for (let round = 0; round < 5; round++) {
      const steps = 12;
      const acc = PRODUCTS.map(() => 0);
      for (let st = 0; st < steps; st++)
        for (let i = 0; i < STEP.length; i++) {
          const t0 = now();
          call(op, i);
          acc[STEP[i]!]! += now() - t0;
        }
      for (const [p, prod] of PRODUCTS.entries())
        best[p] = Math.min(best[p]!, acc[p]! / (steps * prod.count));
      const t0 = now();
      for (let st = 0; st < steps; st++) for (let i = 0; i < STEP.length; i++) call(op, i);
      bestStep = Math.min(bestStep, (now() - t0) / steps);
    }
    perCall.push(best);
    step.push(bestStep);
  }
  return { library: k.library.name, config: k.library.config, perCall, step };
}

function adamChild(): AdamResult {
  const k = loadNativeKernels({ threads: 1 });
  const adam = k.adam as (...args: unknown[]) => void;
  const total = VARIABLES.reduce((a, b) => a + b, 0);
  // x, g, m, v for every variable, laid out variable after variable (as tfjs allocates them).
  const heap = new ArrayBuffer(total * 16 + VARIABLES.length * 64 + 64);
  const f = new Float32Array(heap);
  for (let i = 0; i < f.length; i++) f[i] = Math.sin(i) * 1e-3;
  const offs: number[][] = [];
  let at = 64;
  for (const n of VARIABLES) {
    const o: number[] = [];
    for (let t = 0; t < 4; t++) {
      o.push(at);
      at += n * 4 + 16;
    }
    offs.push(o);
  }
  const stepAll = (path: string) => {
    for (const [i, n] of VARIABLES.entries()) {
      const [x, g, m, v] = offs[i]!;
      adam(heap, n, x, g, m, v, 1e-3, 0.9, 0.999, 1e-8, 0.9, 0.999, path);
    }
  };
  const paths = ['scalar', ...cpuGemmSupport().gemmPaths];
  const seconds: Record<string, number> = {};
  for (const p of paths) seconds[p] = Number.POSITIVE_INFINITY;
  for (let round = 0; round < 4; round++)
    for (const p of paths) {
      stepAll(p);
      const t0 = now();
      stepAll(p);
      stepAll(p);
      seconds[p] = Math.min(seconds[p]!, (now() - t0) / 2);
    }
  return { seconds };
}

const script = fileURLToPath(import.meta.url);

function spawn<T>(args: string[], env: NodeJS.ProcessEnv): T {
  const out = execFileSync(process.execPath, [...process.execArgv, script, ...args], {
    env,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 1 << 24,
  });
  return JSON.parse(out.trim().split('\n').pop()!) as T;
}

/** Runs the GEMV and Adam benchmarks in child processes and prints their tables. */
export function gemvBench(): void {
  const support = cpuGemmSupport();
  const pinned = process.env.OPENBLAS_CORETYPE;
  const cores: Array<{ own: boolean; label: string }> = pinned
    ? [
        { own: false, label: `OPENBLAS_CORETYPE=${pinned}` },
        { own: true, label: 'own core' },
      ]
    : [{ own: true, label: 'own core' }];
  const variants: GemvVariant[] = [
    ...[...support.gemmPaths]
      .reverse()
      .map((p): GemvVariant => ({ key: p, label: `built-in ${p}`, kind: 'builtin', path: p })),
    ...(['sgemv', 'sgemm'] as const).flatMap((kind) =>
      cores.map(
        (c): GemvVariant => ({
          key: `${kind}${c.own ? 'Own' : ''}`,
          label: `OpenBLAS ${kind}${kind === 'sgemm' ? ' M=1' : ''} (${c.label})`,
          kind,
          ownCore: c.own,
        }),
      ),
    ),
  ];
  const rounds = Number(process.env.BENCH_ROUNDS ?? 2);
  const results = new Map<string, GemvResult>();
  const skipped: string[] = [];
  for (let round = 0; round < rounds; round++)
    for (const v of variants) {
      const env: NodeJS.ProcessEnv = { ...process.env, OPENBLAS_NUM_THREADS: '1', OMP_NUM_THREADS: '1' };
      delete env.STEPCODER_BLAS;
      delete env.STEPCODER_GEMM_PATH;
      if (v.kind === 'builtin') delete env.STEPCODER_GEMV;
      else env.STEPCODER_GEMV = v.kind;
      if (v.ownCore) {
        delete env.OPENBLAS_CORETYPE;
        delete env.OPENBLAS_L2_SIZE;
      }
      let r: GemvResult;
      try {
        r = spawn<GemvResult>(['--gemv-child', JSON.stringify(v)], env);
      } catch (err) {
        if (round === 0) skipped.push(`${v.label}: ${(err as Error).message.split('\n')[0]}`);
        continue;
      }
      const prev = results.get(v.key);
      if (prev) {
        prev.perCall = prev.perCall.map((o, i) => o.map((t, j) => Math.min(t, r.perCall[i]![j]!)));
        prev.step = prev.step.map((t, i) => Math.min(t, r.step[i]!));
      } else results.set(v.key, r);
    }

  const shown = variants.filter((v) => results.has(v.key));
  const blasKeys = shown.filter((v) => v.kind !== 'builtin').map((v) => v.key);
  const best = support.bestPath;
  const us = (t: number) => (t * 1e6).toFixed(t < 1e-4 ? 2 : 1);
  const weightBytes = STEP.reduce((a, p) => a + PRODUCTS[p]!.n * PRODUCTS[p]!.k * 4, 0);
  console.log(
    `\n## GEMV: one KV-cache decode step of LLAMA_MINI at batch 1 (${STEP.length} single-row products, ` +
      `${(weightBytes / 1e6).toFixed(1)} MB of distinct weights cycled in step order), 1 thread; ` +
      `best of ${rounds} rounds × 5 windows, µs per call (GB/s of weights)`,
  );
  for (const [op, title] of ['x·Wᵀ, W [N, K] (Llama, transB)', 'x·W, W [K, N] (GPT-2 Conv1D)'].entries()) {
    console.log(`\n### ${title}\n`);
    console.log(
      `| product | per step | N×K | ${shown.map((v) => v.label).join(' | ')} | fastest OpenBLAS / built-in ${best} |`,
    );
    console.log(`|---|---:|---|${shown.map(() => '---:|').join('')}---:|`);
    for (const [p, prod] of PRODUCTS.entries()) {
      const bytes = prod.n * prod.k * 4;
      const cells = shown.map((v) => {
        const t = results.get(v.key)!.perCall[op]![p]!;
        return `${us(t)} (${(bytes / t / 1e9).toFixed(0)})`;
      });
      const ref = Math.min(...blasKeys.map((k) => results.get(k)!.perCall[op]![p]!));
      const ours = results.get(best)?.perCall[op]?.[p];
      const ratio = blasKeys.length > 0 && ours ? `${(ref / ours).toFixed(2)}×` : '—';
      console.log(`| ${prod.what} | ${prod.count} | ${prod.n}×${prod.k} | ${cells.join(' | ')} | ${ratio} |`);
    }
    const stepCells = shown.map((v) => {
      const t = results.get(v.key)!.step[op]!;
      return `**${us(t)}** (${(weightBytes / t / 1e9).toFixed(0)})`;
    });
    const ref = Math.min(...blasKeys.map((k) => results.get(k)!.step[op]!));
    const ours = results.get(best)?.step[op];
    const ratio = blasKeys.length > 0 && ours ? `**${(ref / ours).toFixed(2)}×**` : '—';
    console.log(`| **whole step** | ${STEP.length} | | ${stepCells.join(' | ')} | ${ratio} |`);
  }

  let adam: AdamResult | undefined;
  try {
    adam = spawn<AdamResult>(['--adam-child'], { ...process.env, OPENBLAS_NUM_THREADS: '1' });
  } catch (err) {
    skipped.push(`Adam: ${(err as Error).message.split('\n')[0]}`);
  }
  if (adam) {
    const total = VARIABLES.reduce((a, b) => a + b, 0);
    const paths = Object.keys(adam.seconds);
    console.log(
      `\n### Adam over LLAMA_MINI's ${(total / 1e6).toFixed(2)}M parameters (${VARIABLES.length} calls, one per variable), ms per step\n`,
    );
    console.log(
      `| ${paths.map((p) => (p === 'scalar' ? 'scalar loop (before)' : p)).join(' | ')} | scalar / ${best} |`,
    );
    console.log(`|${paths.map(() => '---:|').join('')}---:|`);
    console.log(
      `| ${paths.map((p) => (adam!.seconds[p]! * 1e3).toFixed(1)).join(' | ')} | ${(adam.seconds.scalar! / adam.seconds[best]!).toFixed(2)}× |`,
    );
  }

  console.log('\nHow each side was built (GEMV):');
  for (const v of shown) {
    const r = results.get(v.key)!;
    console.log(`- ${v.label}: ${r.library} — ${r.config ?? 'no build string'}`);
  }
  console.log(
    `- built-in GEMV: ${support.compiler}; ${support.flags}; x·Wᵀ: 4 rows of W at a time, 2 vector accumulators per row, ` +
      'x loaded once per 4 rows, masked K tails, one 4-way horizontal reduction; x·W: 4 rows of W per pass into a ' +
      '1024-column block of sums in L1; both prefetch the rows 4 ahead (portable: 8). Adam: the same float32 ' +
      'operations in tfjs order on 4 (portable: SSE2) or 8 lanes (avx2 and avx512: AVX without FMA), bit-identical to the scalar loop',
  );
  for (const s of skipped) console.log(`- not measured: ${s}`);
}

const childAt = process.argv.indexOf('--gemv-child');
if (childAt >= 0) {
  console.log(JSON.stringify(gemvChild(JSON.parse(process.argv[childAt + 1]!) as GemvVariant)));
  process.exit(0);
}
if (process.argv.includes('--adam-child')) {
  console.log(JSON.stringify(adamChild()));
  process.exit(0);
}
if (process.argv[1] && resolve(process.argv[1]) === script) gemvBench();
