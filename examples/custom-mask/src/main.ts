/** Train the tiny Python setup with the third-party `no-comments` mask instead of FGO's `line`. */
import { fileURLToPath } from 'node:url';
import { loadConfig, runPipeline } from '@stepcoder/cli';
import './index.js';

const configPath = fileURLToPath(new URL('../../tiny-python/config.yaml', import.meta.url));
await runPipeline(
  loadConfig(configPath, ['mask=no-comments', 'outDir=runs/custom-mask', ...process.argv.slice(2)]),
);
