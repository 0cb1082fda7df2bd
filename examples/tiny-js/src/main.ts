/**
 * SFT warm-start, then PPO with CCCS (the `steps` curriculum) and FGO (the `line` mask) on the
 * bundled mini JavaScript dataset, on the default backend, with the isolated-vm JS executor. Prints pass rates before and after PPO.
 *
 *   pnpm --filter @example/tiny-js start [-- --set train.steps=5 --set seed=2]
 */
import { fileURLToPath } from 'node:url';
import { loadConfig, runPipeline } from '@stepcoder/cli';

const configPath = fileURLToPath(new URL('../config.yaml', import.meta.url));
const overrides = process.argv.slice(2).flatMap((arg, i, all) => (all[i - 1] === '--set' ? [arg] : []));
await runPipeline(loadConfig(configPath, overrides));
