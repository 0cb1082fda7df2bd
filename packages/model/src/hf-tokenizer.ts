import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Tokenizer as HfTokenizer } from '@huggingface/tokenizers';
import { StepcoderError } from '@stepcoder/core';
import { bytesToUnicode, type Tokenizer } from './tokenizer.js';
import { decodeUtf8Groups, encodeUtf8 } from './utf8.js';

interface AddedTokenJson {
  id: number;
  content: string;
  special?: boolean;
}

interface TokenizerJson {
  added_tokens?: AddedTokenJson[];
  model?: { type?: string; vocab?: Record<string, number> };
  decoder?: { type?: string } | null;
}

/**
 * Load a Hugging Face `tokenizer.json` (byte-level BPE, as GPT-2-family code models use).
 * Encoding is done by @huggingface/tokenizers (regex pre-tokenizer, merges, added tokens); it has
 * no offsets, so they are computed here from the byte-level pieces: every vocabulary entry spells
 * bytes through GPT-2's byte table, and the concatenated bytes are the UTF-8 of the input.
 * A `tokenizer_config.json` beside the file, when present, supplies eos/pad/bos tokens; without its
 * `eos_token`, `defaults.eosTokenId` (generation_config.json's first EOS id) is used. BOS: see
 * `bosOf`.
 */
export async function loadTokenizer(path: string, defaults: TokenizerDefaults = {}): Promise<Tokenizer> {
  let json: TokenizerJson;
  try {
    json = JSON.parse(await readFile(path, 'utf8')) as TokenizerJson;
  } catch (err) {
    throw new StepcoderError(
      'TOKENIZER',
      `cannot read tokenizer.json at ${path}: ${(err as Error).message}`,
      {
        cause: err,
        details: { path },
      },
    );
  }
  let config: Record<string, unknown> = {};
  try {
    config = JSON.parse(await readFile(join(dirname(path), 'tokenizer_config.json'), 'utf8'));
  } catch {
    // tokenizer_config.json is optional: GPT-2 folders often ship only tokenizer.json.
  }
  return tokenizerFromJson(json, config, path, defaults);
}

/** Fallbacks when tokenizer_config.json does not name the special tokens. */
export interface TokenizerDefaults {
  /** EOS id (e.g. from generation_config.json) used when tokenizer_config.json has no eos_token. */
  eosTokenId?: number;
}

function tokenName(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object' && typeof (value as { content?: unknown }).content === 'string') {
    return (value as { content: string }).content;
  }
  return undefined;
}

/**
 * The BOS id HF's tokenizer would put in front of a text: tokenizer_config.json's `add_bos_token`
 * decides when it is set (true needs `bos_token` to name an added token or a vocabulary entry);
 * otherwise the post-processor is asked, by encoding a probe with and without special tokens (Llama 3's
 * TemplateProcessing puts `<|begin_of_text|>` first; GPT-2's and Qwen2's ByteLevel add nothing).
 */
function bosOf(
  hf: HfTokenizer,
  config: Record<string, unknown>,
  idOf: (name: string | undefined) => number | undefined,
  where: string,
): number | undefined {
  if (config.add_bos_token === false) return undefined;
  if (config.add_bos_token === true) {
    const name = tokenName(config.bos_token);
    const id = idOf(name);
    if (id === undefined) {
      throw new StepcoderError(
        'TOKENIZER',
        `${where}: tokenizer_config.json sets add_bos_token but its bos_token ${JSON.stringify(name ?? null)} is neither an added token nor in the vocabulary of tokenizer.json`,
        { details: { where, bosToken: name ?? null } },
      );
    }
    return id;
  }
  const plain: number[] = hf.encode('a', { add_special_tokens: false }).ids;
  const framed: number[] = hf.encode('a', { add_special_tokens: true }).ids;
  const at = framed.findIndex((_, i) => plain.every((id, k) => framed[i + k] === id));
  return at === 1 ? framed[0] : undefined;
}

export function tokenizerFromJson(
  json: TokenizerJson,
  config: Record<string, unknown> = {},
  where = 'tokenizer.json',
  defaults: TokenizerDefaults = {},
): Tokenizer {
  const model = json.model;
  if (model?.type !== 'BPE' || !model.vocab) {
    throw new StepcoderError(
      'TOKENIZER',
      `${where}: expected a byte-level BPE model, found model.type ${JSON.stringify(model?.type)}`,
      { details: { where } },
    );
  }
  if (json.decoder?.type !== 'ByteLevel') {
    throw new StepcoderError(
      'TOKENIZER',
      `${where}: expected a ByteLevel decoder (byte-level BPE), found ${JSON.stringify(json.decoder?.type)}`,
      { details: { where } },
    );
  }
  let hf: HfTokenizer;
  try {
    hf = new HfTokenizer(json, config);
  } catch (err) {
    throw new StepcoderError('TOKENIZER', `${where}: ${(err as Error).message}`, {
      cause: err,
      details: { where },
    });
  }
  const byteOf = new Map<string, number>();
  bytesToUnicode().forEach((ch, b) => {
    byteOf.set(ch, b);
  });
  const pieces = new Map<number, Uint8Array>();
  for (const [token, id] of Object.entries(model.vocab)) {
    const bytes: number[] = [];
    let ok = true;
    for (const ch of token) {
      const b = byteOf.get(ch);
      if (b === undefined) {
        ok = false;
        break;
      }
      bytes.push(b);
    }
    // Entries outside the byte alphabet (a stray `<unk>`) decode as their own UTF-8 text.
    pieces.set(id, ok ? Uint8Array.from(bytes) : encodeUtf8(token).bytes);
  }
  const byContent = new Map<string, number>();
  for (const added of json.added_tokens ?? []) {
    pieces.set(added.id, encodeUtf8(added.content).bytes);
    byContent.set(added.content, added.id);
  }
  let vocabSize = 0;
  for (const id of pieces.keys()) vocabSize = Math.max(vocabSize, id + 1);

  const idOf = (name: string | undefined) => (name === undefined ? undefined : byContent.get(name));
  const fallback =
    defaults.eosTokenId !== undefined && pieces.has(defaults.eosTokenId) ? defaults.eosTokenId : undefined;
  const eos =
    idOf(tokenName(config.eos_token)) ??
    fallback ??
    idOf('<|endoftext|>') ??
    idOf('</s>') ??
    idOf('<|end_of_text|>');
  if (eos === undefined) {
    throw new StepcoderError('TOKENIZER', `${where}: no EOS token (set eos_token in tokenizer_config.json)`, {
      details: { where },
    });
  }
  const pad = idOf(tokenName(config.pad_token)) ?? eos;
  // A BOS may be a plain vocabulary entry rather than an added token (then `encode` can produce it
  // from text too, as HF's does).
  const bos = bosOf(
    hf,
    config,
    (name) => idOf(name) ?? (name === undefined ? undefined : model.vocab?.[name]),
    where,
  );

  const groups = (ids: readonly number[]) =>
    ids.map((id) => {
      const g = pieces.get(id);
      if (!g) {
        throw new StepcoderError('TOKENIZER', `${where}: token id ${id} is not in the vocabulary`, {
          details: { id, where },
        });
      }
      return g;
    });

  const encodeWithOffsets = (text: string) => {
    const ids = hf.encode(text, { add_special_tokens: false }).ids;
    const e = encodeUtf8(text);
    const offsets: Array<[number, number]> = [];
    let at = 0;
    for (const [i, g] of groups(ids).entries()) {
      for (let k = 0; k < g.length; k++) {
        if (e.bytes[at + k] !== g[k]) {
          throw new StepcoderError(
            'TOKENIZER',
            `${where}: token ${i} (id ${ids[i]}) does not spell the input at byte ${at + k}; ` +
              'the tokenizer normalises text, so char offsets cannot be computed',
            { details: { where, token: i, byte: at + k } },
          );
        }
      }
      offsets.push(
        g.length === 0
          ? [
              at < e.bytes.length ? e.charStart[at]! : text.length,
              at < e.bytes.length ? e.charStart[at]! : text.length,
            ]
          : [e.charStart[at]!, e.charEnd[at + g.length - 1]!],
      );
      at += g.length;
    }
    if (at !== e.bytes.length) {
      throw new StepcoderError('TOKENIZER', `${where}: tokens cover ${at} of ${e.bytes.length} input bytes`, {
        details: { where, covered: at, length: e.bytes.length },
      });
    }
    return { ids, offsets };
  };

  return {
    kind: 'hf',
    vocabSize,
    eosTokenId: eos,
    padTokenId: pad,
    ...(bos === undefined ? {} : { bosTokenId: bos }),
    encode: (text) => hf.encode(text, { add_special_tokens: false }).ids,
    encodeWithOffsets,
    decode: (ids) => decodeUtf8Groups(groups(ids)).text,
    decodeWithSpans: (ids) => decodeUtf8Groups(groups(ids)),
    toJSON: () => json,
  };
}
