/*
 * pnpm bench:llama (second half of pnpm bench): the ~9.6M-parameter Llama-shaped LLAMA_MINI
 * (RMSNorm, rotary embeddings, GQA 6:2, SwiGLU, untied head, value head) on the wasm backend
 * (tfjs's own kernels; with @stepcoder/native-kernels on OpenBLAS and on its built-in SGEMM, 1
 * thread each) against PyTorch CPU (Debian python3-torch on OpenBLAS, 1 thread) on the identical
 * config, parameter shapes, initialisation, training step and greedy KV-cache generation; then
 * the trainer's peak memory with LoRA against full fine-tuning (bench/lora-measure.ts). Ratios
 * come from this run only. About 1–2 minutes on 2 shared cores.
 */
import { availableParallelism, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import {
  countLlamaParameters,
  createByteTokenizer,
  initBackend,
  LLAMA_MINI,
  llamaParameterShapes,
  resolveLlamaConfig,
  toHfLlamaConfig,
} from '../src/index.js';
import { measureLoraMemory, printLoraMemory } from './lora-measure.js';
import { fmt, measureTfjs, printTfjsBaselines, threadsCell } from './measure.js';
import {
  blasProblem,
  clearOpenblasTuning,
  describeTorchRun,
  ensureOptimisedBlas,
  runTorchChild,
  type TorchResult,
} from './torch-baseline.js';

const config = LLAMA_MINI;
const resolved = resolveLlamaConfig(config);
const tokenizer = createByteTokenizer();
const prompt = 'def fibonacci(n):\n    ';
const [BATCH, SEQ, STEPS] = [4, 64, 5];
/** New tokens of the cached generation (batch 1, greedy, best of two), ours and PyTorch's. */
const GEN_NEW = 256;
/** Batch × tokens of the LoRA / full peak-memory table (bench:lora's default). */
const [MEM_BATCH, MEM_TOKENS] = [4, 128];
const GOAL = 0.7;

clearOpenblasTuning();

console.log(
  `LLAMA_MINI: ${(countLlamaParameters(config) / 1e6).toFixed(2)}M parameters (decoder, untied LM head, value head), ` +
    `byte vocabulary (${resolved.vocabSize}), ${resolved.nLayer} layers, hidden ${resolved.hiddenSize}, ` +
    `MLP ${resolved.intermediateSize}, ${resolved.nHead} heads / ${resolved.nKvHead} KV heads of ${resolved.headDim}; ` +
    `${availableParallelism()} cores on this machine (shared with other jobs: absolute rates are noisy)`,
);
const plan = { batch: BATCH, seq: SEQ, steps: STEPS, warmup: true, short: 0, long: GEN_NEW, noCache: false };
const tfjs = await measureTfjs(config, prompt, plan, plan, [1]);
const { wasm, nativeRows, builtinRow } = tfjs;

const blasSetup = ensureOptimisedBlas();
const torchLoad = loadavg()[0]!;
const torch = blasSetup
  ? blasSetup
  : runTorchChild<TorchResult>(fileURLToPath(new URL('./torch_llama_bench.py', import.meta.url)), {
      config: toHfLlamaConfig(resolved),
      shapes: Object.fromEntries(llamaParameterShapes(resolved)),
      batch: BATCH,
      seq: SEQ,
      steps: STEPS,
      threads: 1,
      prompt_ids: tokenizer.encode(prompt),
      new_tokens: GEN_NEW,
      // What ignoreEos bans in ours: EOS and pad are never sampled.
      banned: [tokenizer.eosTokenId, tokenizer.padTokenId],
      pad_id: tokenizer.padTokenId,
    });

// The memory table on the backend bench:lora uses (wasm, native kernels when available).
const memBackend = await initBackend({ prefer: 'wasm', log: false });
const memory = await measureLoraMemory(MEM_BATCH, MEM_TOKENS);

console.log(
  `\n| backend | threads | train tokens/s (B×T) | gen tok/s, KV cache, ${GEN_NEW} new (batch 1, greedy) |`,
);
console.log('|---|---|---|---|');
for (const r of [wasm, ...nativeRows, ...(builtinRow ? [builtinRow] : [])])
  console.log(
    `| tfjs ${r.backend} | ${threadsCell(r)} | ${fmt(r.train)} (${r.trainShape}) | ${fmt(r.cacheLong)} |`,
  );
if (typeof torch !== 'string')
  console.log(
    `| PyTorch ${torch.torch} CPU | 1 (torch ${torch.threads}, BLAS ${torch.blasThreads ?? '?'}) | ${fmt(torch.trainTokensPerSec)} (${BATCH}×${SEQ}) | ${fmt(torch.genTokensPerSec)} |`,
  );

console.log(
  `\nTrainer peak memory, LoRA vs full fine-tuning (LLAMA_MINI, batch ${MEM_BATCH} × ${MEM_TOKENS} tokens, PPO-like loss: log π + value, Adam; ${memBackend.describe()}; tf.profile peakBytes):`,
);
printLoraMemory(memory);

console.log('\nBaselines:');
console.log(
  `- what both sides compute: training = forward over ${BATCH}×${SEQ} ids (logits and the value head's values), next-token cross-entropy on the logits (values not in the loss), backward, Adam lr 1e-4 over all ${countLlamaParameters(config).toLocaleString('en')} parameters, fastest of ${STEPS} steps after one warm-up; generation = greedy, batch 1, KV cache, prompt of ${tokenizer.encode(prompt).length} tokens, ${GEN_NEW} new, EOS/pad banned, best of two; same shapes and init (normal 0.02, unit norms)`,
);
console.log(
  `- tfjs: Policy.apply / Policy.generate (src/llama.ts: custom-gradient RMSNorm and SwiGLU, GQA by grouping query heads, one-hot embedding gradient; stock wasm transposes each weight once per generate call)`,
);
printTfjsBaselines(
  tfjs,
  'GEMM (M = 1 on the built-in GEMV), transpose, Adam, RMSNorm, RoPE + head split + KV append, SwiGLU, GQA decode attention',
);
if (typeof torch === 'string') console.log(`- PyTorch: not measured, ${torch}`);
else
  console.log(
    describeTorchRun(
      torch,
      1,
      torchLoad,
      'scripts/torch_llama.py: the functional Llama of HF modeling_llama.py, repeat_kv GQA, nn.functional.cross_entropy, torch.optim.Adam',
    ),
  );

console.log('\nRatios (same run):');
if (nativeRows[0])
  console.log(
    `- wasm + native kernels / wasm, 1 thread each: training ${(nativeRows[0].train! / wasm.train!).toFixed(2)}×, generation ${(nativeRows[0].cacheLong! / wasm.cacheLong!).toFixed(2)}×`,
  );
if (nativeRows[0] && builtinRow)
  console.log(
    `- native kernels on the built-in SGEMM / on OpenBLAS, 1 thread each: training ${(builtinRow.train! / nativeRows[0].train!).toFixed(2)}×, generation ${(builtinRow.cacheLong! / nativeRows[0].cacheLong!).toFixed(2)}×`,
  );
const problem = typeof torch === 'string' ? torch : blasProblem(torch, 1);
if (problem || typeof torch === 'string')
  console.log(`- ours / PyTorch, 1 thread each: not reported, ${problem}`);
else {
  const ratio = (ours: number | undefined, theirs: number | undefined) =>
    ours === undefined || theirs === undefined
      ? '—'
      : `${(ours / theirs).toFixed(2)}× (goal ≥ ${GOAL}×${ours / theirs >= GOAL ? ', met' : ', NOT met'})`;
  for (const r of [...nativeRows, ...(builtinRow ? [builtinRow] : []), wasm])
    console.log(
      `- tfjs ${r.backend} / PyTorch CPU, 1 thread each: training ${ratio(r.train, torch.trainTokensPerSec)}, ` +
        `generation with KV cache (${GEN_NEW} new, greedy, batch 1) ${ratio(r.cacheLong, torch.genTokensPerSec)}`,
    );
}
tf.engine().reset();
