import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readFile, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { StepcoderError } from '@stepcoder/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createBpeTokenizer,
  createByteTokenizer,
  createGeneratorWorker,
  createPolicy,
  deserializeTokenizer,
  type GenerateOptions,
  type GeneratorWorker,
  initBackend,
  loadTokenizer,
  type Policy,
  serializeTokenizer,
  type Tokenizer,
} from '../src/base.js';
import { TEST_CONFIG } from './helpers.js';

/*
 * Real worker threads with their own tfjs wasm backend (the worker loads these TypeScript sources
 * through tsx), real policies and tensors. Worker generation must be bit-identical to
 * in-process generation: same kernels, same weights, same seeded sampling.
 */

const corpus = Array.from(
  { length: 60 },
  (_, i) =>
    `def f${i % 7}(xs):\n    total = 0\n    for x in xs:\n        total += x * ${i % 5}\n    return total\n`,
);
const PROMPTS = ['def f(xs):\n', 'x = 1\nprint(', '', '# sum of squares\ndef g(n):\n    '];
const OPTIONS: GenerateOptions = { maxNewTokens: 12, temperature: 0.8, topP: 0.95, seed: 11 };

const fixture = (name: string) =>
  fileURLToPath(new URL(`./fixtures/${name}/tokenizer.json`, import.meta.url));

/**
 * Attach the handler at once: a call can reject before the test awaits it, and the wasm
 * backend's emscripten module turns an unhandled rejection into a process crash.
 */
function settle<T>(promise: Promise<T>): Promise<{ value?: T; error?: unknown }> {
  return promise.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
}

function expectError({ error }: { error?: unknown }, code: string, message: RegExp): void {
  expect(StepcoderError.is(error, code), String(error)).toBe(true);
  expect((error as Error).message).toMatch(message);
}

async function expectDead(promise: Promise<unknown>, code: string, message: RegExp): Promise<void> {
  expectError(await settle(promise), code, message);
}

let bpe: Tokenizer;
let policyA: Policy;
let policyB: Policy;
let worker: GeneratorWorker;

beforeAll(async () => {
  await initBackend({ prefer: 'wasm', log: false });
  bpe = createBpeTokenizer(corpus, { vocabSize: 300 });
  const config = { ...TEST_CONFIG, vocabSize: 300 };
  policyA = await createPolicy({ config, tokenizer: bpe, seed: 1 });
  policyB = await createPolicy({ config, tokenizer: bpe, seed: 2 });
  worker = await createGeneratorWorker.fromPolicy(policyA);
});

afterAll(async () => {
  await worker?.dispose();
  policyA?.dispose();
  policyB?.dispose();
});

describe('tokenizer serialisation', () => {
  it('round-trips the byte tokenizer, a learnt BPE and a tokenizer.json BPE through structured clone', async () => {
    const texts = [corpus[3]!, 'déjà vu 🙂\n\ttabs\r\n', 'print("<|endoftext|>")', ''];
    for (const original of [createByteTokenizer(), bpe, await loadTokenizer(fixture('tiny-bpe'))]) {
      const copy = deserializeTokenizer(structuredClone(serializeTokenizer(original)));
      expect(copy.kind).toBe(original.kind);
      expect([copy.vocabSize, copy.eosTokenId, copy.padTokenId]).toEqual([
        original.vocabSize,
        original.eosTokenId,
        original.padTokenId,
      ]);
      for (const t of texts) {
        expect(copy.encodeWithOffsets(t)).toEqual(original.encodeWithOffsets(t));
        const ids = original.encode(t);
        expect(copy.decodeWithSpans!(ids)).toEqual(original.decodeWithSpans!(ids));
      }
    }
    expect(bpe.padTokenId).not.toBe(bpe.eosTokenId); // the learnt BPE's pad survives (not defaulted to EOS)
  });

  it('refuses a tokenizer it cannot rebuild, with a typed error, before starting a thread', async () => {
    const custom: Tokenizer = { ...createByteTokenizer(), kind: 'sentencepiece' };
    expect(() => serializeTokenizer(custom)).toThrow(/cannot be serialised/);
    const err = await createGeneratorWorker({
      config: TEST_CONFIG,
      tokenizer: custom,
      weights: await policyA.readWeights(),
    }).catch((e: unknown) => e);
    expect(StepcoderError.is(err, 'TOKENIZER')).toBe(true);
    expect((err as StepcoderError).details.kind).toBe('sentencepiece');
  });
});

describe('generator worker', () => {
  it('generates exactly what the policy generates in-process (token ids, logprobs, text, spans)', async () => {
    expect(worker.backend).toMatch(/^wasm/);
    const expected = await policyA.generate(PROMPTS, OPTIONS);
    expect(await worker.generate(PROMPTS, OPTIONS)).toEqual(expected);
    const stopped = { ...OPTIONS, stop: ['\n'], temperature: 1.2, topK: 20, seed: 5 };
    expect(await worker.generate(PROMPTS, stopped)).toEqual(await policyA.generate(PROMPTS, stopped));
    const timed = await worker.generateTimed(PROMPTS, OPTIONS);
    expect(timed.generations).toEqual(expected);
    expect(timed.durationMs).toBeGreaterThan(0);
  });

  it('after setWeights it equals the updated policy; the sent arrays are transferred (detached)', async () => {
    const weights = await policyB.readWeights();
    const first = weights.values().next().value!;
    await worker.setWeights(weights);
    expect(first.data.length).toBe(0); // moved, not copied
    const expected = await policyB.generate(PROMPTS, OPTIONS);
    expect(await worker.generate(PROMPTS, OPTIONS)).toEqual(expected);
    expect(expected).not.toEqual(await policyA.generate(PROMPTS, OPTIONS));
    // transfer: false copies, leaving the caller's arrays usable
    const kept = await policyA.readWeights();
    await worker.setWeights(kept, { transfer: false });
    expect(kept.values().next().value!.data.length).toBeGreaterThan(0);
    expect(await worker.generate(PROMPTS, OPTIONS)).toEqual(await policyA.generate(PROMPTS, OPTIONS));
  });

  it('runs requests in order: a setWeights sent while a generate runs applies after it', async () => {
    const long = { ...OPTIONS, maxNewTokens: 40 };
    const withA = worker.generate(PROMPTS, long); // the worker holds A's weights here
    const swap = worker.setWeights(await policyB.readWeights());
    const withB = worker.generate(PROMPTS, long);
    expect(worker.pendingCalls).toBe(3);
    const [a, , b] = await Promise.all([withA, swap, withB]);
    expect(a).toEqual(await policyA.generate(PROMPTS, long));
    expect(b).toEqual(await policyB.generate(PROMPTS, long));
    await worker.setWeights(await policyA.readWeights());
  });

  it("rejects a failing request with the worker's typed error and stays usable", async () => {
    const invalid = await worker.generate(PROMPTS, { ...OPTIONS, maxNewTokens: 0 }).catch((e: unknown) => e);
    expect(StepcoderError.is(invalid, 'INVALID_OPTIONS')).toBe(true);
    expect((invalid as Error).message).toMatch(/maxNewTokens/);
    expect((invalid as StepcoderError).details.thread).toBe('generator-worker');
    const tooLong = worker.generate(PROMPTS, { ...OPTIONS, maxNewTokens: TEST_CONFIG.nPositions });
    await expectDead(tooLong, 'INVALID_OPTIONS', /must be below nPositions/);
    // wrong weights are refused and the old ones stay
    const bad = await policyA.readWeights();
    bad.set('transformer.wte.weight', { shape: [3, 3], data: new Float32Array(9) });
    await expectDead(worker.setWeights(bad), 'CHECKPOINT', /transformer\.wte\.weight.*shape \[3,3\]/);
    expect(await worker.generate(PROMPTS, OPTIONS)).toEqual(await policyA.generate(PROMPTS, OPTIONS));
    // arrays already transferred are refused on this side, naming the tensor
    const sent = await policyA.readWeights();
    await worker.setWeights(sent);
    await expectDead(worker.setWeights(sent), 'INVALID_OPTIONS', /detached/);
    expect(worker.alive).toBe(true);
  });

  it("a worker that cannot start rejects createGeneratorWorker with the worker's error", async () => {
    const err = await createGeneratorWorker({
      config: policyA.config,
      tokenizer: bpe,
      weights: await policyA.readWeights(),
      backend: 'gpu' as never,
    }).catch((e: unknown) => e);
    expect(StepcoderError.is(err, 'UNKNOWN_PLUGIN'), String(err)).toBe(true);
    expect((err as Error).message).toMatch(/gpu/);
  });

  it('a terminated thread rejects every pending call and refuses new ones (no hang)', async () => {
    const w = await createGeneratorWorker.fromPolicy(policyA);
    const calls = [w.generate(PROMPTS, { ...OPTIONS, maxNewTokens: 50 }), w.generate(PROMPTS, OPTIONS)].map(
      settle,
    );
    await w.thread.terminate();
    for (const c of calls) expectError(await c, 'WORKER_EXITED', /exited/);
    expect(w.alive).toBe(false);
    await expectDead(w.generate(PROMPTS, OPTIONS), 'NOT_READY', /not running/);
    await w.dispose();
  });

  it('a crashed thread (out of memory) rejects its pending calls with the reason', async () => {
    const w = await createGeneratorWorker.fromPolicy(policyA, {
      resourceLimits: { maxOldGenerationSizeMb: 48 },
    });
    const after = settle(w.generate(PROMPTS, OPTIONS));
    // encoding a 20M-character prompt needs far more than 48 MB of heap
    await expectDead(w.generate(['x'.repeat(20_000_000)], OPTIONS), 'WORKER_EXITED', /crashed.*memory/);
    // the request made before the crash had its answer; one made after it is refused
    expect((await after).value).toHaveLength(PROMPTS.length);
    await expectDead(w.setWeights(await policyA.readWeights()), 'NOT_READY', /not running/);
    await w.dispose();
  });

  it('dispose is idempotent, rejects pending calls and terminates the thread', async () => {
    const w = await createGeneratorWorker.fromPolicy(policyA);
    let exited = false;
    w.thread.once('exit', () => {
      exited = true;
    });
    const pending = settle(w.generate(PROMPTS, { ...OPTIONS, maxNewTokens: 50 }));
    const first = w.dispose();
    expect(w.dispose()).toBe(first);
    await first;
    await w.dispose();
    expectError(await pending, 'WORKER_EXITED', /disposed/);
    await expectDead(w.generate(PROMPTS, OPTIONS), 'NOT_READY', /disposed/);
    expect(exited).toBe(true);
  });
});

const pkgDir = (name: string) => fileURLToPath(new URL(`../../${name}/`, import.meta.url));
const built = [
  'core/dist/index.js',
  'model/dist/generator-worker-entry.js',
  'model/dist/generator-worker-entry.cjs',
].every((f) => existsSync(fileURLToPath(new URL(`../../${f}`, import.meta.url))));

/**
 * The built packages (after `pnpm build`) as a user installs them, in a plain `node` without tsx:
 * a temporary project whose node_modules hold core and model with their publishConfig applied and
 * their dist folders, and the third-party dependencies linked from this install. ESM and CJS.
 */
describe.skipIf(!built)('generator worker from the built dist', () => {
  const run = promisify(execFile);
  let app: string;

  beforeAll(async () => {
    app = await mkdtemp(join(tmpdir(), 'stepcoder-dist-worker-'));
    const modules = join(app, 'node_modules');
    for (const name of ['core', 'model']) {
      const target = join(modules, '@stepcoder', name);
      await mkdir(target, { recursive: true });
      const manifest = JSON.parse(await readFile(join(pkgDir(name), 'package.json'), 'utf8'));
      await writeFile(
        join(target, 'package.json'),
        JSON.stringify({ ...manifest, ...manifest.publishConfig }),
      );
      await cp(join(pkgDir(name), 'dist'), join(target, 'dist'), { recursive: true });
      // third-party dependencies, linked to their real location in this install
      for (const dep of Object.keys(manifest.dependencies ?? {}).concat(
        Object.keys(manifest.peerDependencies ?? {}),
      )) {
        if (dep.startsWith('@stepcoder/')) continue;
        const from = join(pkgDir(name), 'node_modules', dep);
        if (!existsSync(from) || existsSync(join(modules, dep))) continue;
        await mkdir(dirname(join(modules, dep)), { recursive: true });
        await symlink(await realpath(from), join(modules, dep), 'dir');
      }
    }
  });

  afterAll(async () => {
    if (app) await rm(app, { recursive: true, force: true });
  });

  const body = (m: string) => `
    await m.initBackend({ prefer: 'wasm', log: false });
    const policy = await m.createPolicy({ config: ${JSON.stringify(TEST_CONFIG)}, tokenizer: m.createByteTokenizer(), seed: 3 });
    const worker = await m.createGeneratorWorker.fromPolicy(policy);
    const options = { maxNewTokens: 8, seed: 4, temperature: 0.9 };
    const same = JSON.stringify(await worker.generate(['def f():'], options)) === JSON.stringify(await policy.generate(['def f():'], options));
    await worker.dispose();
    console.log(JSON.stringify({ same, module: ${JSON.stringify(m)} }));`;

  it('ESM: dist/index.js starts dist/generator-worker-entry.js', async () => {
    const code = `const m = await import('@stepcoder/model');${body('esm')}`;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', code], { cwd: app });
    expect(JSON.parse(stdout)).toEqual({ same: true, module: 'esm' });
  });

  it('CJS: dist/index.cjs starts dist/generator-worker-entry.cjs', async () => {
    const code = `const m = require('@stepcoder/model'); (async () => {${body('cjs')}})();`;
    const { stdout } = await run(process.execPath, ['-e', code], { cwd: app });
    expect(JSON.parse(stdout)).toEqual({ same: true, module: 'cjs' });
  });
});
