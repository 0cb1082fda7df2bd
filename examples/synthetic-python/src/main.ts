/**
 * The learning demo (`pnpm demo`): a GPT-2 trained from scratch (SFT) on the training split of the
 * procedural synthetic suite, evaluated, trained with GRPO on unit-test rewards from real `python3`
 * runs, and evaluated again — pass@1 and pass@8 on training problems and on held-out problems whose
 * combinations of family × operator × constant never appear in training. Wasm backend.
 *
 *   pnpm --filter @example/synthetic-python start [-- --set seed=2 --set train.steps=12]
 */
import { fileURLToPath } from 'node:url';
import { loadConfig, runPipeline, startupChecksOrExit } from '@stepcoder/cli';

const configPath = fileURLToPath(new URL('../config.yaml', import.meta.url));
const overrides = process.argv.slice(2).flatMap((arg, i, all) => (all[i - 1] === '--set' ? [arg] : []));
const config = loadConfig(configPath, overrides);
// python3, the namespaced sandbox, the GEMM: a few lines before any work; exits 2 with the fix.
await startupChecksOrExit(config);
await runPipeline(config);
