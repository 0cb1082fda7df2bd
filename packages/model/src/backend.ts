import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { type Backend, registry as globalRegistry, type Registry, StepcoderError } from '@stepcoder/core';
import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import { ensureGradients } from './gradients.js';
import { disableNativeKernels, enableNativeKernels, type NativeKernelOptions } from './native.js';

export type BackendName = 'tensorflow' | 'wasm' | 'cpu';

export interface BackendOptions {
  /** Requested worker threads (wasm). Node cannot start the threaded wasm build, see README. */
  threads?: number;
  /**
   * wasm only: run matrix products and Adam through `@stepcoder/native-kernels` (an optimised
   * BLAS). 'auto' (default; env STEPCODER_NATIVE=0 turns it off) uses them when the addon and a
   * BLAS load and says why not otherwise; true fails when they cannot; false never loads them.
   */
  native?: boolean | 'auto';
  /**
   * BLAS library and threads for the native kernels (see `NativeKernelOptions`):
   * `{ library: 'builtin' }` (env STEPCODER_BLAS=builtin) forces the built-in SGEMM, which is
   * also what runs when no optimised BLAS is installed.
   */
  blas?: NativeKernelOptions;
}

export interface InitBackendOptions extends BackendOptions {
  /** Use this backend or fail; default: env STEPCODER_BACKEND, else the best that initialises. */
  prefer?: BackendName;
  registry?: Registry;
  /** Print the one-line report to stderr (default true). */
  log?: boolean;
}

declare module '@stepcoder/core' {
  interface PluginOptions {
    'backend:tensorflow': BackendOptions;
    'backend:wasm': BackendOptions;
    'backend:cpu': BackendOptions;
  }
}

export const backendOptionsSchema = z
  .object({
    threads: z.number().int().positive().optional(),
    native: z.union([z.boolean(), z.literal('auto')]).optional(),
    blas: z
      .object({
        library: z.string().min(1).optional(),
        threads: z.number().int().positive().optional(),
        gemmPath: z.enum(['auto', 'portable', 'avx2', 'avx512']).optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

function plugin(name: string, describe: string, threads?: number, simd?: boolean): Backend {
  return { specificationVersion: 'v1', name, threads, simd, describe: () => describe };
}

async function activate(name: string): Promise<void> {
  const ok = await tf.setBackend(name);
  if (!ok) throw new StepcoderError('BACKEND_UNAVAILABLE', `tfjs backend '${name}' failed to initialise`);
  await tf.ready();
}

/**
 * tfjs-node(-gpu) are optional peers whose install downloads libtensorflow; a variable specifier
 * keeps bundlers and tsc from requiring them.
 */
export async function createTensorflowBackend(_options: BackendOptions = {}): Promise<Backend> {
  const reasons: string[] = [];
  for (const pkg of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
    try {
      await import(/* @vite-ignore */ pkg);
      await activate('tensorflow');
      return plugin('tensorflow', `tensorflow (${pkg}, native libtensorflow threads)`);
    } catch (err) {
      const code = (err as { code?: string }).code;
      const missing =
        code === 'ERR_MODULE_NOT_FOUND' ||
        code === 'MODULE_NOT_FOUND' ||
        /Cannot find (package|module)|Could not resolve/.test((err as Error).message);
      reasons.push(missing ? `${pkg} not installed` : `${pkg}: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  throw new StepcoderError('BACKEND_UNAVAILABLE', `tensorflow backend unavailable (${reasons.join('; ')})`, {
    details: { reasons },
  });
}

/**
 * The wasm binaries ship in the package's dist folder; their path is resolved from this module so
 * it works under pnpm's nested layout and from the bundled dist. Node has SIMD; the threaded build
 * starts its workers from blob: URLs, which Node's worker_threads reject, so it runs on 1 thread.
 */
export async function createWasmBackend(options: BackendOptions = {}): Promise<Backend> {
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  const require = createRequire(import.meta.url);
  const dir = join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist/');
  wasm.setWasmPaths(dir);
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  const simd = Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'));
  await activate('wasm');
  const threads = wasm.getThreadsCount();
  const note =
    options.threads && options.threads > 1
      ? `; ${options.threads} requested, Node cannot start wasm threads`
      : '';
  const native = await nativeFor(options);
  return plugin(
    'wasm',
    `wasm (${simd ? 'SIMD' : 'no SIMD'}, ${threads} thread${threads === 1 ? '' : 's'}${note})${native}`,
    threads,
    simd,
  );
}

/** Enable (or not) the native kernels on the freshly activated wasm backend; the report suffix. */
async function nativeFor(options: BackendOptions): Promise<string> {
  const mode = options.native ?? (process.env.STEPCODER_NATIVE === '0' ? false : 'auto');
  if (mode === false) {
    disableNativeKernels();
    return '';
  }
  try {
    const info = await enableNativeKernels(options.blas);
    return ` + ${info.describe}`;
  } catch (err) {
    disableNativeKernels();
    if (mode === true) throw err;
    // One short reason; the full story (every library tried) is nativeKernelsDiagnostics().
    const summary = (err as { details?: { summary?: unknown } }).details?.summary;
    return ` [no native kernels: ${typeof summary === 'string' ? summary : (err as Error).message.split('\n')[0]}]`;
  }
}

export async function createCpuBackend(_options: BackendOptions = {}): Promise<Backend> {
  await import('@tensorflow/tfjs-backend-cpu');
  await activate('cpu');
  return plugin('cpu', 'cpu (pure JS, 1 thread)', 1, false);
}

/** Register the three backends (tensorflow 3 > wasm 2 > cpu 1); existing names are left alone. */
export function registerBackends(target: Registry = globalRegistry): void {
  const entries: Array<[BackendName, (o: BackendOptions) => Promise<Backend>, number, string]> = [
    [
      'tensorflow',
      createTensorflowBackend,
      3,
      'libtensorflow via @tensorflow/tfjs-node(-gpu), when installed',
    ],
    ['wasm', createWasmBackend, 2, 'WebAssembly with SIMD (bundled)'],
    ['cpu', createCpuBackend, 1, 'pure JavaScript fallback'],
  ];
  for (const [name, factory, priority, description] of entries) {
    if (!target.has('backend', name)) {
      target.register('backend', name, factory, { priority, description, schema: backendOptionsSchema });
    }
  }
}

let current: Backend | undefined;

/** The usual reason tensorflow is skipped, in a few words (the start-up line stays one line). */
function shortReason(reason: string): string {
  return /tfjs-node-gpu not installed; @tensorflow\/tfjs-node not installed/.test(reason)
    ? 'tfjs-node-gpu not installed, nor tfjs-node'
    : reason;
}

/**
 * Pick the compute backend: `prefer` (or env STEPCODER_BACKEND) exactly, else the best one that
 * initialises. Prints and returns a one-line report of the backend, threads and SIMD.
 */
export async function initBackend(options: InitBackendOptions = {}): Promise<Backend> {
  const reg = options.registry ?? globalRegistry;
  registerBackends(reg);
  await ensureGradients();
  const prefer = options.prefer ?? (process.env.STEPCODER_BACKEND as BackendName | undefined) ?? undefined;
  const pluginOptions: BackendOptions = {};
  if (options.threads !== undefined) pluginOptions.threads = options.threads;
  if (options.native !== undefined) pluginOptions.native = options.native;
  if (options.blas !== undefined) pluginOptions.blas = options.blas;
  let backend: Backend;
  let skipped = '';
  if (prefer) {
    backend = await reg.create('backend', prefer, pluginOptions);
  } else {
    const best = await reg.createBest('backend', pluginOptions);
    backend = best.plugin;
    if (best.skipped.length > 0)
      skipped = ` [skipped ${best.skipped.map((s) => `${s.name}: ${shortReason(s.reason)}`).join('; ')}]`;
  }
  current = backend;
  if (options.log ?? true)
    process.stderr.write(`[stepcoder/model] backend: ${backend.describe()}${skipped}\n`);
  return backend;
}

/** The backend chosen by `initBackend`, if any. */
export function currentBackend(): Backend | undefined {
  return current;
}

/** Called by createPolicy/loadPolicy: initialise the default backend unless tfjs already has one. */
export async function ensureBackend(): Promise<void> {
  await ensureGradients();
  if (current || tf.engine().backendNames().length > 0) {
    await tf.ready();
    return;
  }
  await initBackend();
}
