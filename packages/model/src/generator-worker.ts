import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type ResourceLimits, Worker } from 'node:worker_threads';
import { StepcoderError } from '@stepcoder/core';
import * as tf from '@tensorflow/tfjs-core';
import type { BackendName } from './backend.js';
import type { ModelConfig } from './family.js';
import type { Reply, Request, WireError, WireWeights, WorkerInit } from './generator-protocol.js';
import { type LoraOptions, LoraPolicy } from './lora.js';
import type { GenerateOptions, Generation, Policy } from './policy.js';
import type { SafeTensor } from './safetensors.js';
import type { Tokenizer } from './tokenizer.js';
import { serializeTokenizer } from './tokenizer-transfer.js';

export interface GeneratorWorkerOptions {
  config: ModelConfig;
  /** Must be serialisable: the byte tokenizer or a tokenizer.json BPE (see `serializeTokenizer`). */
  tokenizer: Tokenizer;
  /**
   * Every parameter under its HF name, as `policy.readWeights()` returns them; with `lora`, the
   * base's unmerged parameters, as `loraPolicy.readBaseWeights()` returns them.
   */
  weights: Map<string, SafeTensor>;
  /**
   * Make the worker's policy a LoRA policy: `applyLora` with `options` (as
   * `loraPolicy.loraOptions()` gives them; dropout is forced off, the worker only generates) on
   * the policy built from `weights`, then `adapters` set on it (the trainable state under
   * `getWeights` names, e.g. `loraPolicy.readAdapters()`; any subset).
   *
   * Why: a LoRA trainer's updates are its trainable state only (`getWeights()`: the adapters and
   * the value head, a few MB), and that is what it pushes after every update. A worker holding
   * the merged weights in a plain policy would need the whole model resent each time (and
   * rejects the adapter names); a LoRA worker keeps the frozen base once and takes adapter-only
   * `setWeights` calls. `createGeneratorWorker.fromPolicy(loraPolicy)` sets this up.
   */
  lora?: { options: LoraOptions; adapters?: Map<string, SafeTensor> };
  /**
   * The worker's tfjs backend. Default: the caller's active backend when one is set (so the
   * worker computes exactly what the caller would), else `initBackend`'s choice
   * (env STEPCODER_BACKEND, else the best that initialises).
   */
  backend?: BackendName;
  /**
   * Move the weights' buffers to the worker instead of copying them (default true): the caller's
   * Float32Arrays are detached (length 0) afterwards. Views into a larger buffer are copied first.
   */
  transfer?: boolean;
  /** Heap limits of the worker thread (Node's `ResourceLimits`); default Node's. */
  resourceLimits?: ResourceLimits;
}

export interface SetWeightsOptions {
  /** As `createGeneratorWorker`'s `transfer` (default true: the arrays are detached). */
  transfer?: boolean;
  /** Only the named parameters change (default false: every parameter must be given). */
  partial?: boolean;
}

type Success = Extract<Reply, { ok: true }>;

interface PendingCall {
  resolve: (value: Success) => void;
  reject: (err: Error) => void;
}

/**
 * A Policy's `generate` on its own thread. The worker runs its own tfjs engine and backend and a
 * frozen copy of the policy; `setWeights` replaces its weights. Requests run one at a time in the
 * order they were made: a `setWeights` made while a `generate` runs applies after it, and a
 * `generate` made after a `setWeights` sees the new weights.
 */
export class GeneratorWorker {
  /** The worker's backend report (`initBackend`'s line), e.g. `wasm (SIMD, 1 thread)`. */
  readonly backend: string;
  /** The underlying `worker_threads` Worker (resource usage, event-loop utilisation). */
  readonly thread: Worker;
  /**
   * Whether the worker holds a LoRA policy (started with `lora`): `setWeights` then takes its
   * trainable state (adapters under PEFT names, value head), never base weights.
   */
  readonly lora: boolean;
  private readonly pending = new Map<number, PendingCall>();
  private nextId = 1;
  private dead: StepcoderError | undefined;
  private disposing: Promise<void> | undefined;

  /** @internal use `createGeneratorWorker`. */
  constructor(thread: Worker, backend: string, lora = false) {
    this.thread = thread;
    this.backend = backend;
    this.lora = lora;
    thread.on('message', (reply: Reply) => this.onReply(reply));
    thread.on('error', (err) =>
      this.fail(
        new StepcoderError('WORKER_EXITED', `generator worker crashed: ${err.message}`, {
          cause: err,
          details: { code: (err as { code?: unknown }).code },
        }),
      ),
    );
    thread.on('messageerror', (err) => {
      this.fail(
        new StepcoderError(
          'WORKER_EXITED',
          `generator worker sent a reply that cannot be read: ${err.message}`,
          {
            cause: err,
          },
        ),
      );
      void thread.terminate();
    });
    thread.on('exit', (code) => {
      this.fail(
        new StepcoderError('WORKER_EXITED', `generator worker exited (code ${code})`, {
          details: { exitCode: code },
        }),
      );
    });
    thread.unref(); // an idle generator does not keep the process alive; pending calls do
  }

  /** Calls sent and not yet answered. */
  get pendingCalls(): number {
    return this.pending.size;
  }

  /** False once disposed, crashed or terminated. */
  get alive(): boolean {
    return this.dead === undefined;
  }

  /** Same contract, options and results as `Policy.generate`, computed on the worker thread. */
  async generate(prompts: string[], options: GenerateOptions): Promise<Generation[]> {
    return (await this.generateTimed(prompts, options)).generations;
  }

  /**
   * `generate` plus `durationMs`, the time the worker spent generating: without the wait behind
   * earlier requests and without the delay until this thread's event loop takes the reply.
   */
  async generateTimed(
    prompts: string[],
    options: GenerateOptions,
  ): Promise<{ generations: Generation[]; durationMs: number }> {
    const reply = await this.call({ type: 'generate', prompts, options }, []);
    return { generations: reply.result as Generation[], durationMs: reply.durationMs };
  }

  /**
   * Replace the worker's weights (HF names, as `policy.readWeights()` gives them; for a LoRA
   * worker the trainable state, as `loraPolicy.getWeights()` names it: adapters and value head,
   * while a base weight is refused naming it). Applies after every request made before it. With
   * `transfer` (default) the arrays are detached here.
   */
  async setWeights(weights: Map<string, SafeTensor>, options: SetWeightsOptions = {}): Promise<void> {
    const prepared = prepareWeights(weights, options.transfer ?? true);
    await this.call(
      { type: 'setWeights', weights: prepared.wire, partial: options.partial ?? false },
      prepared.transferList,
    );
  }

  /** Terminate the thread; pending calls reject with 'WORKER_EXITED'. Idempotent. */
  dispose(): Promise<void> {
    if (!this.disposing) {
      this.fail(
        new StepcoderError('WORKER_EXITED', 'generator worker was disposed', { details: { disposed: true } }),
      );
      this.disposing = this.thread.terminate().then(
        () => undefined,
        () => undefined,
      );
    }
    return this.disposing;
  }

  private call(body: DistributiveOmit<Request, 'id'>, transferList: ArrayBuffer[]): Promise<Success> {
    if (this.dead) {
      return Promise.reject(
        new StepcoderError('NOT_READY', `generator worker is not running (${this.dead.message})`, {
          cause: this.dead,
        }),
      );
    }
    const id = this.nextId++;
    const request = { ...body, id } as Request;
    return new Promise((resolve, reject) => {
      try {
        this.thread.postMessage(request, transferList);
      } catch (err) {
        reject(
          new StepcoderError(
            'INVALID_OPTIONS',
            `generator worker: cannot send the request: ${(err as Error).message}`,
            {
              cause: err,
            },
          ),
        );
        return;
      }
      if (this.pending.size === 0) this.thread.ref();
      this.pending.set(id, { resolve, reject });
    });
  }

  private onReply(reply: Reply): void {
    if (reply.type !== 'result') return;
    const call = this.pending.get(reply.id);
    if (!call) return;
    this.pending.delete(reply.id);
    if (this.pending.size === 0) this.thread.unref();
    if (reply.ok) call.resolve(reply);
    else call.reject(fromWireError(reply.error));
  }

  private fail(err: StepcoderError): void {
    if (this.dead) return;
    this.dead = err;
    const calls = [...this.pending.values()];
    this.pending.clear();
    for (const c of calls) c.reject(err);
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** A worker-side error as a StepcoderError with the worker's code (or 'WORKER_ERROR') and message. */
function fromWireError(e: WireError): StepcoderError {
  return new StepcoderError(e.code ?? 'WORKER_ERROR', e.message, {
    details: { ...(e.details ?? {}), errorName: e.name, workerStack: e.stack, thread: 'generator-worker' },
  });
}

/**
 * Each array gets a buffer of its own (a view into a larger or shared buffer is copied), so that
 * transferring moves exactly the weights and cloning copies nothing more than them.
 */
function prepareWeights(
  weights: Map<string, SafeTensor>,
  transfer: boolean,
  seen = new Set<ArrayBufferLike>(),
): { wire: WireWeights; transferList: ArrayBuffer[] } {
  if (!(weights instanceof Map)) {
    throw new StepcoderError(
      'INVALID_OPTIONS',
      'generator worker: weights must be a Map of name → { shape, data }',
    );
  }
  const wire: WireWeights = { names: [], shapes: [], data: [] };
  const transferList: ArrayBuffer[] = [];
  for (const [name, t] of weights) {
    if (!t || !(t.data instanceof Float32Array) || !Array.isArray(t.shape)) {
      throw new StepcoderError(
        'INVALID_OPTIONS',
        `generator worker: weight '${name}' must be { shape: number[], data: Float32Array }`,
        { details: { tensor: name } },
      );
    }
    const size = t.shape.reduce((a, b) => a * b, 1);
    if (t.data.length !== size) {
      const detached =
        t.data.buffer.byteLength === 0 ? ' (its buffer is detached: already sent to a worker?)' : '';
      throw new StepcoderError(
        'INVALID_OPTIONS',
        `generator worker: weight '${name}' has ${t.data.length} values for shape [${t.shape}]${detached}`,
        { details: { tensor: name } },
      );
    }
    let data = t.data;
    const own =
      data.buffer instanceof ArrayBuffer &&
      data.byteOffset === 0 &&
      data.byteLength === data.buffer.byteLength &&
      !seen.has(data.buffer);
    if (!own) data = data.slice();
    seen.add(data.buffer);
    if (transfer || !own) transferList.push(data.buffer as ArrayBuffer);
    wire.names.push(name);
    wire.shapes.push([...t.shape]);
    wire.data.push(data);
  }
  return { wire, transferList };
}

/** The caller's active tfjs backend, without initialising one. */
function activeBackend(): BackendName | undefined {
  const name = (tf.engine() as { backendName?: string | null }).backendName;
  return name === 'wasm' || name === 'cpu' || name === 'tensorflow' ? name : undefined;
}

/**
 * Where the worker's code is: next to this module, in the same form (dist ESM `.js`, dist CJS
 * `.cjs`, or TypeScript sources run by tsx/vitest, which the worker loads through tsx's API).
 */
function workerScript(): { script: string | URL; eval: boolean } {
  const here = import.meta.url;
  if (here.endsWith('.ts')) {
    const entry = new URL('./generator-worker-entry.ts', here).href;
    const api = tsxApi(here);
    const code = `import(${JSON.stringify(api)}).then((api) => api.tsImport(${JSON.stringify(entry)}, ${JSON.stringify(api)}));`;
    return { script: code, eval: true };
  }
  const ext = here.endsWith('.cjs') ? '.cjs' : '.js';
  return { script: new URL(`./generator-worker-entry${ext}`, here), eval: false };
}

/**
 * The caller's Node flags minus those a worker refuses or that describe the caller's own entry
 * (`--input-type`, `-e`/`-p` and their code).
 */
function workerExecArgv(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (['--input-type', '-e', '--eval', '-p', '--print'].includes(a)) {
      i++; // and its value
      continue;
    }
    if (a.startsWith('--input-type=') || a.startsWith('--eval=') || a.startsWith('--print=')) continue;
    out.push(a);
  }
  return out;
}

/** tsx's ESM API (`tsx/esm/api`, import condition), needed only when running from sources. */
function tsxApi(from: string): string {
  try {
    const require = createRequire(from);
    const pkgPath = require.resolve('tsx/package.json');
    const pkg = JSON.parse(readFileSync(pkgPath, 'utf8')) as {
      exports?: Record<string, { import?: { default?: string } | string }>;
    };
    const entry = pkg.exports?.['./esm/api'];
    const rel = typeof entry === 'object' ? (entry.import as { default?: string })?.default : undefined;
    if (!rel) throw new Error(`tsx ${pkgPath} has no ./esm/api export`);
    return pathToFileURL(join(dirname(pkgPath), rel)).href;
  } catch (err) {
    throw new StepcoderError(
      'NOT_READY',
      `generator worker: running @stepcoder/model from its TypeScript sources needs tsx to load the worker (${(err as Error).message}); install tsx or use the built package`,
      { cause: err },
    );
  }
}

/**
 * Start a generator thread from a config, a serialisable tokenizer and weights. Resolves once the
 * worker has built its policy (rejects with the worker's error, e.g. an unavailable backend).
 */
export async function createGeneratorWorker(options: GeneratorWorkerOptions): Promise<GeneratorWorker> {
  const tokenizer = serializeTokenizer(options.tokenizer);
  const transfer = options.transfer ?? true;
  // Shared by the base and the adapters: a buffer both use is transferred once, then copied.
  const seen = new Set<ArrayBufferLike>();
  const { wire, transferList } = prepareWeights(options.weights, transfer, seen);
  const init: WorkerInit = {
    config: { ...options.config },
    tokenizer,
    weights: wire,
    backend: options.backend ?? activeBackend(),
  };
  if (options.lora) {
    const { options: loraOptions, adapters } = options.lora;
    if (loraOptions === null || typeof loraOptions !== 'object')
      throw new StepcoderError('INVALID_OPTIONS', 'generator worker: lora.options must be LoraOptions');
    init.lora = { options: { ...loraOptions, dropout: 0 } };
    if (adapters) {
      const prepared = prepareWeights(adapters, transfer, seen);
      init.lora.adapters = prepared.wire;
      transferList.push(...prepared.transferList);
    }
  }
  const { script, eval: isEval } = workerScript();
  const thread = new Worker(script, {
    eval: isEval,
    workerData: init,
    transferList,
    resourceLimits: options.resourceLimits,
    execArgv: workerExecArgv(process.execArgv),
  });
  const backend = await new Promise<string>((resolve, reject) => {
    const onMessage = (reply: Reply) => {
      if (reply.type === 'ready') done(() => resolve(reply.backend));
      else if (reply.type === 'init-error') {
        done(() => reject(fromWireError(reply.error)));
        void thread.terminate();
      }
    };
    const onError = (err: Error) =>
      done(() =>
        reject(
          new StepcoderError('WORKER_EXITED', `generator worker failed to start: ${err.message}`, {
            cause: err,
          }),
        ),
      );
    const onExit = (code: number) =>
      done(() =>
        reject(
          new StepcoderError('WORKER_EXITED', `generator worker exited while starting (code ${code})`, {
            details: { exitCode: code },
          }),
        ),
      );
    const done = (settle: () => void) => {
      thread.off('message', onMessage);
      thread.off('error', onError);
      thread.off('exit', onExit);
      settle();
    };
    thread.on('message', onMessage);
    thread.on('error', onError);
    thread.on('exit', onExit);
  });
  return new GeneratorWorker(thread, backend, init.lora !== undefined);
}

/**
 * A generator worker holding a copy of `policy` (its config, tokenizer and current weights).
 * `backend` defaults to the caller's active one. A `LoraPolicy` gets a LoRA worker: its base
 * (unmerged), the same adapter structure and its current adapters (see the `lora` option), so
 * that a push of its trainable state (`getWeights()`'s tensors as `{ shape, data }`, what the PPO
 * trainer sends after each update) moves only the adapters and the value head.
 */
createGeneratorWorker.fromPolicy = async (
  policy: Policy,
  options: Omit<GeneratorWorkerOptions, 'config' | 'tokenizer' | 'weights' | 'transfer' | 'lora'> = {},
): Promise<GeneratorWorker> => {
  if (policy instanceof LoraPolicy) {
    return createGeneratorWorker({
      ...options,
      config: policy.config,
      tokenizer: policy.tokenizer,
      weights: await policy.readBaseWeights(),
      lora: { options: policy.loraOptions(), adapters: await policy.readAdapters() },
    });
  }
  return createGeneratorWorker({
    ...options,
    config: policy.config,
    tokenizer: policy.tokenizer,
    weights: await policy.readWeights(),
  });
};
