import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  checkRoundTrip,
  createPolicy,
  initBackend,
  type LlamaConfig,
  loadPolicy,
  type Policy,
  specialAddedToken,
  tokenizerFromJson,
  trainByteLevelBpe,
} from '../src/base.js';

/*
 * A directory laid out as DeepSeek-Coder's (the model StepCoder trained) ships it: model_type llama
 * with linear rope_scaling (factor 4) and rope_theta 1e5; a byte-level BPE tokenizer.json whose
 * pre-tokenizer is a Sequence of regex Splits, single Digits and ByteLevel without its own regex;
 * tokenizer_config.json with add_bos_token and full-width-bar special tokens, EOS <|EOT|> (the
 * instruct models). The weights are tiny and random; the keys and shapes of the files are the
 * published ones, the vocabulary is learnt here. Loaded with loadPolicy as a user would.
 */
const BOS = '<｜begin▁of▁sentence｜>';
const END = '<｜end▁of▁sentence｜>';
const EOT = '<|EOT|>';

const CODE = [
  'def fibonacci(n):\n    if n < 2:\n        return n\n    return fibonacci(n - 1) + fibonacci(n - 2)\n',
  'for i in range(12345):\r\n\tprint(i * 2, "done")\n',
  'const add = (a, b) => a + b;\nconsole.log(add(40, 2));\n',
  'class Stack:\n    def __init__(self):\n        self.items = []\n',
];

function deepseekTokenizerJson(): Record<string, unknown> {
  const trained = trainByteLevelBpe(CODE, { vocabSize: 420 }) as Record<string, unknown> & {
    model: { vocab: Record<string, number> };
    added_tokens?: Array<{ id: number }>;
  };
  let next = Math.max(
    ...Object.values(trained.model.vocab),
    ...(trained.added_tokens ?? []).map((t) => t.id),
  );
  const added = [BOS, END, EOT].map((content) => specialAddedToken(++next, content));
  const split = (regex: string) => ({
    type: 'Split',
    pattern: { Regex: regex },
    behavior: 'Isolated',
    invert: false,
  });
  return {
    ...trained,
    added_tokens: [...(trained.added_tokens ?? []), ...added],
    pre_tokenizer: {
      type: 'Sequence',
      pretokenizers: [
        split('[\\r\\n]'),
        split('\\s?[A-Za-zµÀ-ÖØ-öø-ƺƼ-ƿǄ-ʓʕ-ʯͰ-ͳͶͷͻ-ͽͿΆΈ-ΊΌΎ-ΡΣ-ϵϷ-ҁҊ-ԯԱ-ՖႠ-ჅᎠ-Ᏽᏸ-ᏽᲐ-ᲺᲽ-Ჿᴀ-ᴫᵫ-ᵷᵹ-ᶚḀ-ἕ]+'),
        split('\\s?[!-/:-~！-／：-～‘-‟　-。]+'),
        split('\\s+$'),
        split('[一-龥ࠀ-一가-퟿]+'),
        { type: 'Digits', individual_digits: true },
        { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false },
      ],
    },
  };
}

const tokenizerConfig = {
  add_bos_token: true,
  add_eos_token: false,
  bos_token: { __type: 'AddedToken', content: BOS, lstrip: false, normalized: true, rstrip: false },
  eos_token: { __type: 'AddedToken', content: EOT, lstrip: false, normalized: true, rstrip: false },
  pad_token: { __type: 'AddedToken', content: END, lstrip: false, normalized: true, rstrip: false },
  legacy: true,
  model_max_length: 16384,
  clean_up_tokenization_spaces: false,
  tokenizer_class: 'LlamaTokenizerFast',
};

let dir: string;
let original: Policy;
let loaded: Policy;
let llama: LlamaConfig;

beforeAll(async () => {
  await initBackend({ prefer: 'wasm', log: false });
  dir = await mkdtemp(join(tmpdir(), 'stepcoder-deepseek-'));
  const json = deepseekTokenizerJson();
  const tokenizer = tokenizerFromJson(json as never, tokenizerConfig);
  llama = {
    family: 'llama',
    vocabSize: tokenizer.vocabSize,
    nPositions: 64,
    hiddenSize: 32,
    intermediateSize: 64,
    nLayer: 2,
    nHead: 4,
    rmsNormEps: 1e-6,
    ropeTheta: 100000,
    ropeScaling: { type: 'linear', factor: 4 },
  };
  original = await createPolicy({ config: llama, tokenizer, seed: 5 });
  await original.save(dir);
  // The files as the Hub has them: no stepcoder block, DeepSeek's keys and spelling.
  const ids = (t: string) =>
    (json.added_tokens as Array<{ id: number; content: string }>).find((a) => a.content === t)!.id;
  await writeFile(
    join(dir, 'config.json'),
    JSON.stringify({
      architectures: ['LlamaForCausalLM'],
      attention_bias: false,
      bos_token_id: ids(BOS),
      eos_token_id: ids(EOT),
      hidden_act: 'silu',
      hidden_size: 32,
      initializer_range: 0.02,
      intermediate_size: 64,
      max_position_embeddings: 64,
      model_type: 'llama',
      num_attention_heads: 4,
      num_hidden_layers: 2,
      num_key_value_heads: 4,
      pretraining_tp: 1,
      rms_norm_eps: 1e-6,
      rope_scaling: { factor: 4.0, type: 'linear' },
      rope_theta: 100000,
      tie_word_embeddings: false,
      torch_dtype: 'bfloat16',
      transformers_version: '4.33.1',
      use_cache: true,
      vocab_size: tokenizer.vocabSize,
    }),
  );
  await writeFile(join(dir, 'tokenizer_config.json'), JSON.stringify(tokenizerConfig));
  await writeFile(
    join(dir, 'generation_config.json'),
    JSON.stringify({ bos_token_id: ids(BOS), eos_token_id: ids(END), transformers_version: '4.33.1' }),
  );
  loaded = await loadPolicy(dir);
});
afterAll(async () => {
  original.dispose();
  loaded.dispose();
  await rm(dir, { recursive: true, force: true });
});

describe('a DeepSeek-Coder-shaped Hugging Face directory', () => {
  it('loads its rope_scaling, rope_theta and special tokens', () => {
    expect(loaded.config).toMatchObject({
      family: 'llama',
      modelType: 'llama',
      ropeTheta: 100000,
      ropeScaling: { type: 'linear', factor: 4 },
      nKvHead: 4,
    });
    const tok = loaded.tokenizer;
    const json = JSON.parse(JSON.stringify(tok.toJSON?.())) as {
      added_tokens: Array<{ id: number; content: string }>;
    };
    const name = (id: number | undefined) => json.added_tokens.find((t) => t.id === id)?.content;
    expect([name(tok.bosTokenId), name(tok.eosTokenId), name(tok.padTokenId)]).toEqual([BOS, EOT, END]);
  });

  it('tokenizes code through the Sequence pre-tokenizer with exact offsets', () => {
    const tok = loaded.tokenizer;
    for (const text of [...CODE, 'x = 1_000_000  # ünïcödé — 日本語\n\n', '']) checkRoundTrip(tok, text);
    // Digits { individual_digits }: every digit is its own token.
    const digits = tok.encodeWithOffsets('12345');
    expect(digits.offsets).toEqual([
      [0, 1],
      [1, 2],
      [2, 3],
      [3, 4],
      [4, 5],
    ]);
  });

  it('generates as the policy that wrote it: BOS first, the scaled rotary embedding applied', async () => {
    const opts = { maxNewTokens: 8, temperature: 0.9, seed: 3 };
    const prompt = 'def add(a, b):\n';
    const [a] = await original.generate([prompt], opts);
    const [b] = await loaded.generate([prompt], opts);
    expect(b!.promptIds[0]).toBe(loaded.tokenizer.bosTokenId);
    expect(b!.promptIds.slice(1)).toEqual(loaded.tokenizer.encode(prompt));
    expect(b!.tokenIds).toEqual(a!.tokenIds);
    expect(b!.logprobs).toEqual(a!.logprobs);
    // Dropping rope_scaling from config.json changes what the same weights compute.
    const cfg = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8'));
    const plainDir = `${dir}-unscaled`;
    await original.save(plainDir);
    await writeFile(join(plainDir, 'config.json'), JSON.stringify({ ...cfg, rope_scaling: null }));
    await writeFile(join(plainDir, 'tokenizer_config.json'), JSON.stringify(tokenizerConfig));
    const unscaled = await loadPolicy(plainDir);
    const [c] = await unscaled.generate([prompt], opts);
    expect(c!.logprobs).not.toEqual(a!.logprobs);
    unscaled.dispose();
    await rm(plainDir, { recursive: true, force: true });
  });
});
