/** Train tiny-js's setup on the stdio problems only, judged by the third-party executor. */
import { fileURLToPath } from 'node:url';
import { loadConfig, runPipeline } from '@stepcoder/cli';
import './index.js';

const configPath = fileURLToPath(new URL('../../tiny-js/config.yaml', import.meta.url));
await runPipeline(
  loadConfig(configPath, [
    'executor=node-subprocess',
    'data.options={"filter":{"testKinds":["stdio"]}}',
    'outDir=runs/custom-executor',
    ...process.argv.slice(2),
  ]),
);
