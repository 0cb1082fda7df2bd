#!/usr/bin/env node
/*
 * Build the addon (build/Release/stepcoder_native.node) with node-gyp. Never fails the install:
 * without a compiler or Node's headers the package still installs and `loadNativeKernels()` says
 * why it is unavailable, so @stepcoder/model keeps its pure-wasm path.
 *
 * node-gyp is the one npm or pnpm bundles (found next to the running package manager, or on
 * PATH). Headers: npm's `nodedir` setting when present, else `<node prefix>/include/node` when it
 * holds node_api.h (Debian/NodeSource installs), else node-gyp's own download.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'build/Release/stepcoder_native.node');
const sources = ['native/kernels.c', 'native/gemm.c', 'native/gemm.h', 'binding.gyp'].map((s) =>
  join(root, s),
);
const force = process.argv.includes('--force');

if (!force && existsSync(out) && sources.every((s) => statSync(s).mtimeMs <= statSync(out).mtimeMs)) {
  process.exit(0);
}

function findNodeGyp() {
  const candidates = [];
  const require = createRequire(import.meta.url);
  try {
    candidates.push(require.resolve('node-gyp/bin/node-gyp.js'));
  } catch {}
  const execpath = process.env.npm_execpath; // npm-cli.js or pnpm.cjs of the running manager
  if (execpath) {
    candidates.push(join(dirname(execpath), '../node_modules/node-gyp/bin/node-gyp.js'));
    candidates.push(join(dirname(execpath), 'node_modules/node-gyp/bin/node-gyp.js'));
  }
  const prefix = join(dirname(process.execPath), '..');
  candidates.push(join(prefix, 'lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js'));
  candidates.push(join(prefix, 'lib/node_modules/pnpm/dist/node_modules/node-gyp/bin/node-gyp.js'));
  return candidates.find((c) => existsSync(c));
}

const gyp = findNodeGyp();
const args = ['rebuild', '--release'];
const prefix = join(dirname(process.execPath), '..');
if (!process.env.npm_config_nodedir && existsSync(join(prefix, 'include/node/node_api.h'))) {
  args.push(`--nodedir=${prefix}`);
}
const result = gyp
  ? spawnSync(process.execPath, [gyp, ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] })
  : spawnSync('node-gyp', args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], shell: false });
if (result.status === 0 && existsSync(out)) {
  console.log(`@stepcoder/native-kernels: built ${out}`);
} else {
  const why = result.error
    ? result.error.message
    : `${(result.stderr?.toString() ?? '').trim().split('\n').slice(-6).join('\n')}`;
  console.warn(
    `@stepcoder/native-kernels: native build skipped (${gyp ? 'node-gyp failed' : 'node-gyp not found'}); ` +
      `@stepcoder/model will use its pure-wasm kernels.\n${why}`,
  );
}
