/**
 * The generator thread started by `createGeneratorWorker`: its own tfjs engine and backend, and a
 * frozen Policy rebuilt from the config, tokenizer and weights it was given. Requests are handled
 * strictly in arrival order (one at a time), so a `setWeights` sent while a `generate` runs
 * applies after that generation. Built as its own file (tsup entry); not part of the public API.
 */
import { parentPort, workerData } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from './backend.js';
import {
  fromWireWeights,
  type Reply,
  type Request,
  toWireError,
  type WorkerInit,
} from './generator-protocol.js';
import { Policy } from './policy.js';
import { deserializeTokenizer } from './tokenizer-transfer.js';

const port = parentPort;

async function start(): Promise<Policy> {
  const init = workerData as WorkerInit;
  const backend = await initBackend({ prefer: init.backend, log: false });
  const tokenizer = deserializeTokenizer(init.tokenizer);
  const policy = new Policy(init.config, tokenizer, fromWireWeights(init.weights), true);
  post({ type: 'ready', backend: backend.describe() });
  return policy;
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
      const tensors = new Map<string, tf.Tensor>();
      try {
        for (const [name, w] of fromWireWeights(request.weights)) {
          tensors.set(name, tf.tensor(w.data, w.shape, 'float32'));
        }
        policy.setWeights(tensors, { partial: request.partial });
      } finally {
        tf.dispose([...tensors.values()]);
      }
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
