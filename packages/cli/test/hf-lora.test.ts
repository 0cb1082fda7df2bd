import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { createPolicy, type LlamaConfig, loadTokenizer, readSafeTensors } from '@stepcoder/model';
import { describe, expect, it } from 'vitest';

/*
 * The "done when": a user points model.checkpoint at a Hugging Face Llama-family directory (Qwen2 here), adds
 * `model.lora`, and runs the real `stepcoder sft`, `train` and `eval` commands unchanged, each in
 * its own process, every stage reading the directory the previous one wrote.
 */

const run = promisify(execFile);
const repoRoot = resolve(import.meta.dirname, '../../..');
const bin = join(repoRoot, 'packages/cli/src/bin.ts');

/** Qwen2-shaped (q/k/v biases, tied head, GQA 4:2), a vocabulary padded past the tokenizer's. */
const MICRO_QWEN2: LlamaConfig = {
  family: 'llama',
  modelType: 'qwen2',
  vocabSize: 384,
  nPositions: 256,
  hiddenSize: 32,
  intermediateSize: 48,
  nLayer: 2,
  nHead: 4,
  nKvHead: 2,
  ropeTheta: 1e6,
  tieWordEmbeddings: true,
};
/** A byte-level BPE tokenizer.json (packages/model/test/fixtures, MIT, made for this project). */
const BPE = join(repoRoot, 'packages/model/test/fixtures/tiny-bpe/tokenizer.json');

function stepcoder(args: string[]) {
  return run(process.execPath, ['--import', 'tsx', bin, ...args], {
    cwd: repoRoot,
    env: { ...process.env, STEPCODER_BACKEND: 'wasm', NO_COLOR: '1' },
    maxBuffer: 16 * 2 ** 20,
  });
}

/** sha256 of every file in `dir`, by name. */
function digests(dir: string): Record<string, string> {
  return Object.fromEntries(
    readdirSync(dir)
      .sort()
      .map((f) => [
        f,
        createHash('sha256')
          .update(readFileSync(join(dir, f)))
          .digest('hex'),
      ]),
  );
}

async function maxAbs(path: string, suffix: string): Promise<number> {
  const { tensors } = await readSafeTensors(path);
  let m = 0;
  for (const [name, t] of tensors)
    if (name.endsWith(suffix)) for (const x of t.data) m = Math.max(m, Math.abs(x));
  return m;
}

const common = (outDir: string) => [
  '--set',
  `outDir=${outDir}`,
  '--set',
  'data.language=javascript',
  '--set',
  'data.limit=6',
  '--set',
  'data.evalFraction=0.34',
  '--set',
  'model.lora={"rank":4,"alpha":8,"targetModules":"all-linear"}',
  '--set',
  'sft.epochs=2',
  '--set',
  'sft.lr=0.01',
  '--set',
  'train.steps=2',
  '--set',
  'train.batchSize=2',
  '--set',
  'train.generation={"maxNewTokens":12}',
  '--set',
  'eval.n=1',
  '--set',
  'eval.maxNewTokens=12',
  '--set',
  'eval.generatorWorker=true',
];

describe('stepcoder sft / train / eval on a Hugging Face Qwen2 directory with model.lora', () => {
  it('trains adapters only, writes PEFT directories that the next command loads, and never touches the base', async () => {
    const root = mkdtempSync(join(tmpdir(), 'stepcoder-hf-lora-'));
    const baseDir = join(root, 'llama-base');
    const base = await createPolicy({ config: MICRO_QWEN2, tokenizer: await loadTokenizer(BPE), seed: 3 });
    await base.save(baseDir);
    base.dispose();
    const hf = JSON.parse(readFileSync(join(baseDir, 'config.json'), 'utf8'));
    expect(hf.model_type).toBe('qwen2');
    expect(existsSync(join(baseDir, 'tokenizer.json'))).toBe(true);
    const before = digests(baseDir);
    const outDir = join(root, 'run');

    await stepcoder(['sft', ...common(outDir), '--set', `model.checkpoint=${baseDir}`]);
    const sftDir = join(outDir, 'sft');
    // Adapters only: no model weights in the SFT output, the base named for PEFT.
    expect(existsSync(join(sftDir, 'adapter_model.safetensors'))).toBe(true);
    expect(existsSync(join(sftDir, 'model.safetensors'))).toBe(false);
    const adapterConfig = JSON.parse(readFileSync(join(sftDir, 'adapter_config.json'), 'utf8'));
    expect(adapterConfig).toMatchObject({
      peft_type: 'LORA',
      r: 4,
      lora_alpha: 8,
      base_model_name_or_path: baseDir,
    });
    expect([...adapterConfig.target_modules].sort()).toEqual(
      ['down_proj', 'gate_proj', 'k_proj', 'o_proj', 'q_proj', 'up_proj', 'v_proj'].sort(),
    );
    // B starts at zero: SFT moved it.
    const sftB = await maxAbs(join(sftDir, 'adapter_model.safetensors'), 'lora_B.weight');
    expect(sftB).toBeGreaterThan(0);

    // Generation on a worker thread holding the base: the trainer pushes the adapters only.
    await stepcoder([
      'train',
      ...common(outDir),
      '--set',
      `model.checkpoint=${sftDir}`,
      '--set',
      'train.generatorWorker=true',
    ]);
    const trained = join(outDir, 'checkpoint', 'policy');
    expect(existsSync(join(trained, 'adapter_model.safetensors'))).toBe(true);
    const rows = readFileSync(join(outDir, 'metrics.jsonl'), 'utf8').trim().split('\n');
    expect(rows.map((r) => JSON.parse(r).step)).toEqual([1, 2]);
    // PPO continued the SFT adapters (it did not start new ones at B = 0).
    const sftAdapters = (await readSafeTensors(join(sftDir, 'adapter_model.safetensors'))).tensors;
    const trainedAdapters = (await readSafeTensors(join(trained, 'adapter_model.safetensors'))).tensors;
    expect([...trainedAdapters.keys()].sort()).toEqual([...sftAdapters.keys()].sort());

    await stepcoder(['eval', ...common(outDir), '--set', `model.checkpoint=${trained}`]);
    const report = JSON.parse(readFileSync(join(outDir, 'eval.json'), 'utf8'));
    expect(report.heldout.problems).toBeGreaterThan(0);
    expect(report.heldout.passAtK['pass@1']).toBeGreaterThanOrEqual(0);

    // The frozen base is byte-for-byte what it was.
    expect(digests(baseDir)).toEqual(before);
  }, 300_000);

  it('writes a fresh preset base to outDir/base once, and refuses model.lora that contradicts an adapter checkpoint', async () => {
    const root = mkdtempSync(join(tmpdir(), 'stepcoder-fresh-lora-'));
    const outDir = join(root, 'run');
    const configPath = join(root, 'config.json');
    writeFileSync(configPath, JSON.stringify({ model: { family: 'llama', preset: 'tiny' } }));
    await stepcoder(['sft', '--config', configPath, ...common(outDir), '--set', 'sft.epochs=1']);
    const adapterConfig = JSON.parse(readFileSync(join(outDir, 'sft', 'adapter_config.json'), 'utf8'));
    expect(adapterConfig.base_model_name_or_path).toBe(join(outDir, 'base'));
    expect(JSON.parse(readFileSync(join(outDir, 'base', 'config.json'), 'utf8')).model_type).toBe('llama');

    const err = await stepcoder([
      'eval',
      '--config',
      configPath,
      ...common(outDir),
      '--set',
      'model.lora={"rank":16}',
      '--set',
      `model.checkpoint=${join(outDir, 'sft')}`,
    ]).then(
      () => undefined,
      (e: { stderr: string }) => e,
    );
    expect(err?.stderr).toMatch(/model\.lora does not match the adapters .*rank 16 vs 4/);
  }, 300_000);
});
