/*
 * pnpm bench: the ~10.9M-parameter GPT2_MINI on the wasm backend (tfjs's own kernels, and with
 * @stepcoder/native-kernels on OpenBLAS at 1 thread and at all cores, and on its built-in SGEMM
 * at 1 thread), the cpu backend, and
 * PyTorch CPU (Debian python3-torch on OpenBLAS, installed here when root; verified in the child)
 * on the identical config, training step and cached generation, at 1 thread each and at all
 * cores. Ratios come from this run only.
 * Sizes are cut to keep the run near 3 minutes on 2 shared cores; BENCH_FULL=1 measures the
 * no-cache generation at the full 256 new tokens (several minutes).
 */
import { availableParallelism, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { countParameters, createByteTokenizer, GPT2_MINI } from '../src/index.js';
import { fmt, measure, measureTfjs, printTfjsBaselines, threadsCell, wasmGemmGflops } from './measure.js';
import {
  blasProblem,
  clearOpenblasTuning,
  describeTorchRun,
  ensureOptimisedBlas,
  runTorchChild,
  type TorchResult,
} from './torch-baseline.js';

const full = process.env.BENCH_FULL === '1';
const config = GPT2_MINI;
const tokenizer = createByteTokenizer();
const prompt = 'def fibonacci(n):\n    ';
const SHORT = 64;
/** New tokens of the cached-generation comparison (wasm and PyTorch). */
const GEN_NEW = 256;

function torchBaseline(batch: number, seq: number, threads: number): TorchResult | string {
  return runTorchChild<TorchResult>(fileURLToPath(new URL('./torch_bench.py', import.meta.url)), {
    config: {
      vocab_size: config.vocabSize,
      n_positions: config.nPositions,
      n_embd: config.nEmbd,
      n_layer: config.nLayer,
      n_head: config.nHead,
    },
    batch,
    seq,
    steps: 5,
    threads,
    prompt_ids: tokenizer.encode(prompt),
    new_tokens: GEN_NEW,
  });
}

clearOpenblasTuning();

console.log(
  `GPT2_MINI: ${(countParameters(config) / 1e6).toFixed(1)}M parameters, byte vocabulary; ` +
    `${availableParallelism()} cores on this machine (shared with other jobs: absolute rates are noisy)`,
);
const allCores = Math.max(2, availableParallelism());
const plan = {
  batch: 2,
  seq: 64,
  steps: 5,
  warmup: true,
  short: SHORT,
  long: GEN_NEW,
  noCache: true,
  noCacheLong: full,
};
// The native rows skip the no-cache generation (the cache comparison is wasm's own).
const tfjs = await measureTfjs(config, prompt, plan, { ...plan, noCache: false }, [1, allCores]);
const { wasm, nativeRows, builtinRow } = tfjs;
const wasmGemm = await wasmGemmGflops();
const cpu = await measure(
  config,
  prompt,
  { backend: 'cpu' },
  { batch: 2, seq: 64, steps: 1, warmup: false, short: 16, noCache: false },
);
const blasSetup = ensureOptimisedBlas();
const torchRuns = blasSetup
  ? []
  : [1, allCores].map((threads) => ({
      threads,
      load: loadavg()[0]!,
      r: torchBaseline(2, 64, threads),
    }));

console.log(
  `\n| backend | threads | train tokens/s (B×T) | gen tok/s, cache, ${GEN_NEW} new | gen, no cache, ${GEN_NEW} new | gen, cache, short | gen, no cache, short | cache speed-up |`,
);
console.log('|---|---|---|---|---|---|---|---|');
for (const r of [wasm, ...nativeRows, ...(builtinRow ? [builtinRow] : []), cpu]) {
  const speedup = r.noCacheLong
    ? `${(r.cacheLong! / r.noCacheLong).toFixed(1)}× at ${GEN_NEW}`
    : r.noCacheShort
      ? `${(r.cacheShort! / r.noCacheShort).toFixed(1)}× at ${SHORT}`
      : '—';
  const shortLabel = r.backend === 'cpu' ? ' (16 new)' : ` (${SHORT} new)`;
  const threads = threadsCell(r);
  console.log(
    `| tfjs ${r.backend} | ${threads} | ${fmt(r.train)} (${r.trainShape}) | ${fmt(r.cacheLong)} | ${fmt(r.noCacheLong)} | ${fmt(r.cacheShort)}${shortLabel} | ${fmt(r.noCacheShort)} | ${speedup} |`,
  );
}
for (const { threads, r } of torchRuns) {
  if (typeof r === 'string') continue;
  console.log(
    `| PyTorch ${r.torch} CPU | ${threads} (torch ${r.threads}, BLAS ${r.blasThreads ?? '?'}) | ${fmt(r.trainTokensPerSec)} (2×64) | ${fmt(r.genTokensPerSec)} | — | — | — | — |`,
  );
}

console.log('\nBaselines:');
printTfjsBaselines(tfjs, 'GEMM, transpose, LayerNorm, GELU, Adam', wasmGemm);
if (blasSetup) console.log(`- PyTorch: not measured, ${blasSetup}`);
for (const { threads, r, load } of torchRuns) {
  if (typeof r === 'string') console.log(`- PyTorch, ${threads} threads: ${r}`);
  else console.log(describeTorchRun(r, threads, load, 'same functional GPT-2'));
}

console.log('\nRatios (same run):');
console.log(`- wasm / cpu training: ${(wasm.train! / cpu.train!).toFixed(1)}×`);
console.log(
  `- wasm / cpu generation with cache: ${(wasm.cacheShort! / cpu.cacheShort!).toFixed(1)}× (${SHORT} vs 16 new tokens)`,
);
if (nativeRows[0])
  console.log(
    `- wasm + native kernels / wasm, 1 thread each: training ${(nativeRows[0].train! / wasm.train!).toFixed(2)}×, generation ${(nativeRows[0].cacheLong! / wasm.cacheLong!).toFixed(2)}×`,
  );
if (nativeRows[0] && builtinRow)
  console.log(
    `- native kernels on the built-in SGEMM / on OpenBLAS, 1 thread each: training ${(builtinRow.train! / nativeRows[0].train!).toFixed(2)}× (goal ≥ 0.7×), generation ${(builtinRow.cacheLong! / nativeRows[0].cacheLong!).toFixed(2)}×; per-GEMM table: pnpm --filter @stepcoder/native-kernels bench`,
  );
for (const { threads, r } of torchRuns) {
  if (typeof r === 'string') continue;
  const problem = blasProblem(r, threads);
  const label = threads === 1 ? '1 thread each' : `${threads} threads each (all cores)`;
  if (problem) {
    console.log(`- ours / PyTorch, ${label}: not reported, ${problem}`);
    continue;
  }
  const native = nativeRows.find((n) => n.threads === threads);
  if (native) {
    console.log(
      `- wasm + native kernels / PyTorch CPU, ${label}: training ${(native.train! / r.trainTokensPerSec).toFixed(2)}× (target ≥ 0.5×)` +
        (r.genTokensPerSec
          ? `, generation with KV cache (${GEN_NEW} new, greedy, batch 1) ${(native.cacheLong! / r.genTokensPerSec).toFixed(2)}× (target ≥ 0.5×)`
          : ''),
    );
  }
  const wasmLabel =
    threads === 1 ? '1 thread each' : `wasm 1 thread (all it can use) vs PyTorch ${threads} threads`;
  console.log(
    `- wasm alone / PyTorch CPU, ${wasmLabel}: training ${(wasm.train! / r.trainTokensPerSec).toFixed(2)}×` +
      (r.genTokensPerSec ? `, generation ${(wasm.cacheLong! / r.genTokensPerSec).toFixed(2)}×` : ''),
  );
  if (threads === 1)
    console.log(
      `- peak float32 GEMM (512×512), 1 thread: wasm ${wasmGemm.toFixed(1)} / OpenBLAS ${r.gemmGflops.toFixed(1)} GFLOP/s = ${(wasmGemm / r.gemmGflops).toFixed(2)}× (wasm SIMD is 128-bit without FMA; OpenBLAS uses AVX2/AVX-512 FMA; ~95% of a step's FLOPs are GEMMs)`,
    );
}
if (wasm.noCacheLong) {
  console.log(
    `- KV cache speed-up at ${GEN_NEW} new tokens (wasm): ${(wasm.cacheLong! / wasm.noCacheLong).toFixed(1)}× (target ≥ 5×)`,
  );
} else {
  console.log(
    `- KV cache speed-up at ${SHORT} new tokens (wasm): ${(wasm.cacheShort! / wasm.noCacheShort!).toFixed(1)}×; at ${GEN_NEW} run with BENCH_FULL=1`,
  );
}
