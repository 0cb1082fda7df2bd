/**
 * The generator thread started by `createGeneratorWorker`: its own tfjs engine and backend, and a
 * frozen Policy rebuilt from the config, tokenizer and weights it was given (with `lora`, a
 * LoraPolicy on those base weights, which then takes adapter-only weight updates). Requests are handled
 * strictly in arrival order (one at a time), so a `setWeights` sent while a `generate` runs
 * applies after that generation. Built as its own file (tsup entry); not part of the public API.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { StepcoderError } from '@stepcoder/core';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from './backend.js';
import {
  fromWireWeights,
  type Reply,
  type Request,
  toWireError,
  type WorkerInit,
} from './generator-protocol.js';
import { applyLora, LoraPolicy } from './lora.js';
import { Policy } from './policy.js';
import type { SafeTensor } from './safetensors.js';
import { deserializeTokenizer } from './tokenizer-transfer.js';
import { VALUE_HEAD_NAMES } from './weights.js';

const port = parentPort;

async function start(): Promise<Policy> {
  const init = workerData as WorkerInit;
  const backend = await initBackend({ prefer: init.backend, log: false });
  const tokenizer = deserializeTokenizer(init.tokenizer);
  let policy = new Policy(init.config, tokenizer, fromWireWeights(init.weights), true);
  if (init.lora) {
    // Generation is inference: no adapter dropout whatever the trainer's policy uses.
    const lora = applyLora(policy, { ...init.lora.options, dropout: 0 });
    policy = lora;
    if (init.lora.adapters) setWeights(lora, fromWireWeights(init.lora.adapters), true);
  }
  post({ type: 'ready', backend: backend.describe() });
  return policy;
}

const ADAPTER_TENSOR = /\.lora_[AB](?:\.default)?\.weight$/;

/**
 * `policy.setWeights`, refusing first (naming the tensor) what a caller confused about the
 * worker's kind sends: base weights to a LoRA worker, adapter tensors to a plain one.
 */
function setWeights(policy: Policy, weights: Map<string, SafeTensor>, partial: boolean): void {
  const names = [...weights.keys()];
  if (policy instanceof LoraPolicy) {
    const base = new Set(policy.family.parameterShapes().keys());
    const head = new Set<string>(VALUE_HEAD_NAMES); // trainable, and sent with the adapters
    const frozen = names.find((n) => base.has(n) && !head.has(n));
    if (frozen !== undefined)
      throw new StepcoderError(
        'CHECKPOINT',
        `generator worker setWeights: '${frozen}' is a frozen base weight of this LoRA worker; send the LoRA policy's trainable state (getWeights(): adapters and value head), not full or merged weights`,
        { details: { tensor: frozen, where: 'setWeights', lora: true } },
      );
  } else {
    const adapter = names.find((n) => ADAPTER_TENSOR.test(n));
    if (adapter !== undefined)
      throw new StepcoderError(
        'CHECKPOINT',
        `generator worker setWeights: '${adapter}' is a LoRA adapter tensor but this worker holds a plain policy; start the worker from the LoRA policy (createGeneratorWorker.fromPolicy(loraPolicy) or the lora option)`,
        { details: { tensor: adapter, where: 'setWeights', lora: false } },
      );
  }
  const tensors = new Map<string, tf.Tensor>();
  try {
    for (const [name, w] of weights) tensors.set(name, tf.tensor(w.data, w.shape, 'float32'));
    policy.setWeights(tensors, { partial });
  } finally {
    tf.dispose([...tensors.values()]);
  }
}

function post(reply: Reply): void {
  port!.postMessage(reply);
}

async function handle(policy: Policy, request: Request): Promise<void> {
  try {
    const start = performance.now();
    if (request.type === 'generate') {
      const result = await policy.generate(request.prompts, request.options);
      post({ type: 'result', id: request.id, ok: true, result, durationMs: performance.now() - start });
    } else if (request.type === 'setWeights') {
      setWeights(policy, fromWireWeights(request.weights), request.partial);
      post({ type: 'result', id: request.id, ok: true, result: null, durationMs: performance.now() - start });
    } else {
      throw new Error(`unknown request type ${JSON.stringify((request as { type?: unknown }).type)}`);
    }
  } catch (err) {
    // A reply that cannot be cloned lands here too, so every request gets exactly one answer.
    post({ type: 'result', id: (request as { id: number }).id, ok: false, error: toWireError(err) });
  }
}

if (port) {
  const ready = start();
  ready.catch((err) => post({ type: 'init-error', error: toWireError(err) }));
  let queue: Promise<void> = Promise.resolve();
  port.on('message', (request: Request) => {
    queue = queue.then(async () => {
      const policy = await ready.catch(() => undefined);
      if (policy) await handle(policy, request);
    });
  });
}
