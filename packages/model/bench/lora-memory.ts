import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../src/index.js';
import { measureLoraMemory, printLoraMemory } from './lora-measure.js';

/*
 * Trainer peak memory, LoRA against full fine-tuning, on LLAMA_MINI (~9.6M parameters); what is
 * measured: bench/lora-measure.ts. `pnpm --filter @stepcoder/model bench:lora [batch] [tokens]`
 * (bench:llama prints the same table at the default size).
 */

const batch = Number(process.argv[2] ?? 4);
const tokens = Number(process.argv[3] ?? 128);

await initBackend({ prefer: 'wasm', log: false });
console.log(`LLAMA_MINI, batch ${batch} × ${tokens} tokens, backend ${tf.getBackend()}`);
printLoraMemory(await measureLoraMemory(batch, tokens));
