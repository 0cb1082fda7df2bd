import { createByteTokenizer, createPolicy, initBackend, GPT2_MINI } from './src/index.ts';
await initBackend({ prefer: process.argv[2] as any });
const p = await createPolicy({ config: GPT2_MINI, tokenizer: createByteTokenizer(), seed: 1 });
await p.generate(['warm'], { maxNewTokens: 4, seed: 1 });
let t0 = performance.now(); await p.generate(['def fibonacci(n):'], { maxNewTokens: 64, seed: 1 }); console.log('gen cache 64', (64 / ((performance.now() - t0) / 1000)).toFixed(1), 'tok/s');
t0 = performance.now(); await p.generate(Array(8).fill('def fibonacci(n):'), { maxNewTokens: 64, seed: 1 }); console.log('gen cache 64 x8', (8*64 / ((performance.now() - t0) / 1000)).toFixed(1), 'tok/s');
