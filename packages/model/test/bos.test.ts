import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createGeneratorWorker,
  createPolicy,
  deserializeTokenizer,
  initBackend,
  type LlamaConfig,
  loadPolicy,
  loadTokenizer,
  serializeTokenizer,
  specialAddedToken,
  type Tokenizer,
  tokenizerFromJson,
} from '../src/base.js';

// A BOS in front of every prompt, as Llama 3 and DeepSeek-Coder are trained to see it: found from
// tokenizer.json's post-processor (TemplateProcessing) or tokenizer_config.json's add_bos_token,
// carried through generation, serialisation, a worker thread and a save → load.
const fixture = fileURLToPath(new URL('./fixtures/tiny-bpe/tokenizer.json', import.meta.url));
const BOS = '<|begin_of_text|>';
const PAD = '<|pad|>';

type Json = Record<string, unknown> & { added_tokens: Array<Record<string, unknown>> };
let base: Json;
let dir: string;

beforeAll(async () => {
  await initBackend({ prefer: 'wasm', log: false });
  base = JSON.parse(await readFile(fixture, 'utf8')) as Json;
  dir = await mkdtemp(join(tmpdir(), 'stepcoder-bos-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** The fixture with BOS (374) and pad (375) added, and Llama 3's TemplateProcessing when `template`. */
function withSpecials(template: boolean): Json {
  const added = specialAddedToken;
  return {
    ...base,
    added_tokens: [...base.added_tokens, added(374, BOS), added(375, PAD)],
    ...(template
      ? {
          post_processor: {
            type: 'TemplateProcessing',
            single: [{ SpecialToken: { id: BOS, type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
            pair: [],
            special_tokens: { [BOS]: { id: BOS, ids: [374], tokens: [BOS] } },
          },
        }
      : {}),
  };
}

const config = { eos_token: '<|endoftext|>', pad_token: PAD };

function tinyLlama(tok: Tokenizer): LlamaConfig {
  return {
    family: 'llama',
    vocabSize: tok.vocabSize,
    nPositions: 24,
    hiddenSize: 16,
    intermediateSize: 24,
    nLayer: 1,
    nHead: 2,
  };
}

describe('BOS', () => {
  it('comes from a TemplateProcessing post-processor; encode never adds it', () => {
    const tok = tokenizerFromJson(withSpecials(true) as never, config);
    expect(tok.bosTokenId).toBe(374);
    expect(tok.padTokenId).toBe(375);
    expect(tok.encode('def f():')).not.toContain(374);
  });

  it("comes from Llama 3's Sequence [ByteLevel, TemplateProcessing] post-processor", () => {
    const template = withSpecials(true);
    const llama3 = {
      ...template,
      post_processor: {
        type: 'Sequence',
        processors: [
          { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true },
          template.post_processor,
        ],
      },
    };
    expect(tokenizerFromJson(llama3 as never, config).bosTokenId).toBe(374);
  });

  it('is absent for ByteLevel post-processors (GPT-2, Qwen2) and when add_bos_token is false', async () => {
    expect((await loadTokenizer(fixture)).bosTokenId).toBeUndefined();
    expect(tokenizerFromJson(withSpecials(false) as never, config).bosTokenId).toBeUndefined();
    const off = tokenizerFromJson(withSpecials(true) as never, { ...config, add_bos_token: false });
    expect(off.bosTokenId).toBeUndefined();
  });

  it('comes from add_bos_token + bos_token, a vocabulary entry, and a bos_token that is neither fails', () => {
    const on = tokenizerFromJson(withSpecials(false) as never, {
      ...config,
      add_bos_token: true,
      bos_token: { content: BOS },
    });
    expect(on.bosTokenId).toBe(374);
    // A bos_token that is a vocabulary entry (not an added token) is found there.
    const entry = Object.entries((base.model as { vocab: Record<string, number> }).vocab).find(
      ([token]) => token.length > 3,
    )!;
    const fromVocab = tokenizerFromJson(withSpecials(false) as never, {
      ...config,
      add_bos_token: true,
      bos_token: entry[0],
    });
    expect(fromVocab.bosTokenId).toBe(entry[1]);
    expect(deserializeTokenizer(serializeTokenizer(fromVocab)).bosTokenId).toBe(entry[1]);
    expect(() =>
      tokenizerFromJson(
        withSpecials(false) as never,
        { ...config, add_bos_token: true, bos_token: '<s>' },
        'dir/tokenizer.json',
      ),
    ).toThrow(
      /dir\/tokenizer\.json: tokenizer_config\.json sets add_bos_token but its bos_token "<s>" is neither an added token nor in the vocabulary/,
    );
  });

  it('leads every prompt the policy generates from, also when the prompt is cut to fit', async () => {
    const tok = tokenizerFromJson(withSpecials(true) as never, config);
    const policy = await createPolicy({ config: tinyLlama(tok), tokenizer: tok, seed: 3 });
    const long = 'def fibonacci(n):\n    return n if n < 2 else fibonacci(n - 1) + fibonacci(n - 2)\n';
    const [short, cut, empty] = await policy.generate(['def f():', long, ''], {
      maxNewTokens: 4,
      temperature: 0,
      seed: 1,
    });
    expect(short!.promptIds).toEqual([374, ...tok.encode('def f():')]);
    // 24 positions − 4 new tokens: BOS and the last 19 prompt tokens.
    expect(cut!.promptIds).toEqual([374, ...tok.encode(long).slice(-19)]);
    expect(empty!.promptIds).toEqual([374]);
    for (const g of [short!, cut!, empty!]) expect(g.tokenIds).not.toContain(375); // pad is never sampled
    policy.dispose();
  });

  it('survives serialisation, a generator worker thread, and save → load', async () => {
    const tok = tokenizerFromJson(withSpecials(true) as never, config);
    const rebuilt = deserializeTokenizer(serializeTokenizer(tok));
    expect([rebuilt.bosTokenId, rebuilt.padTokenId, rebuilt.eosTokenId]).toEqual([374, 375, 373]);

    const policy = await createPolicy({ config: tinyLlama(tok), tokenizer: tok, seed: 4 });
    const opts = { maxNewTokens: 5, temperature: 0.8, seed: 9 };
    const [here] = await policy.generate(['x = 1'], opts);
    const worker = await createGeneratorWorker.fromPolicy(policy, { backend: 'wasm' });
    try {
      const [there] = await worker.generate(['x = 1'], opts);
      expect(there!.promptIds).toEqual(here!.promptIds);
      expect(there!.tokenIds).toEqual(here!.tokenIds);
    } finally {
      await worker.dispose();
    }

    const out = join(dir, 'saved');
    await policy.save(out);
    const saved = JSON.parse(await readFile(join(out, 'tokenizer_config.json'), 'utf8'));
    expect(saved).toEqual({
      eos_token: '<|endoftext|>',
      pad_token: PAD,
      add_bos_token: true,
      bos_token: BOS,
    });
    const hfConfig = JSON.parse(await readFile(join(out, 'config.json'), 'utf8'));
    expect(hfConfig.bos_token_id).toBe(374);
    // As a plain HF directory (tokenizer from tokenizer.json + tokenizer_config.json).
    const { stepcoder: _tag, ...plain } = hfConfig;
    await writeFile(join(out, 'config.json'), JSON.stringify(plain));
    const loaded = await loadPolicy(out);
    expect([loaded.tokenizer.bosTokenId, loaded.tokenizer.padTokenId]).toEqual([374, 375]);
    const [again] = await loaded.generate(['x = 1'], opts);
    expect(again!.promptIds).toEqual(here!.promptIds);
    expect(again!.tokenIds).toEqual(here!.tokenIds);
    policy.dispose();
    loaded.dispose();
  });
});
