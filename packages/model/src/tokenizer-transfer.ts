import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { StepcoderError } from '@stepcoder/core';
import { tokenizerFromJson } from './hf-tokenizer.js';
import { createByteTokenizer, type Tokenizer } from './tokenizer.js';

/**
 * A tokenizer as plain data that crosses a thread (structured clone) or a process boundary, and
 * is rebuilt into an identical Tokenizer on the other side.
 */
export type SerializedTokenizer =
  | { kind: 'byte' }
  | {
      kind: 'hf';
      /** The tokenizer.json object (`tokenizer.toJSON()`). */
      json: unknown;
      /** tokenizer_config.json entries that choose EOS, pad and BOS. */
      config: { eos_token: string; pad_token: string; add_bos_token: boolean; bos_token?: string };
      vocabSize: number;
      eosTokenId: number;
      padTokenId: number;
      bosTokenId?: number;
    };

function refuse(tokenizer: Tokenizer, why: string): StepcoderError {
  return new StepcoderError(
    'TOKENIZER',
    `tokenizer of kind '${tokenizer.kind ?? 'custom'}' cannot be serialised (${why}); tokenizers that can: ` +
      'the byte tokenizer (createByteTokenizer), and byte-level BPEs from a tokenizer.json (loadTokenizer, tokenizerFromJson, createBpeTokenizer)',
    { details: { kind: tokenizer.kind ?? 'custom' } },
  );
}

/**
 * The tokenizer as data: `{ kind: 'byte' }` for the built-in byte tokenizer, its tokenizer.json plus
 * EOS/pad for a Hugging Face byte-level BPE (loaded or learnt with `createBpeTokenizer`). Any other
 * tokenizer throws StepcoderError 'TOKENIZER': it has no data form that rebuilds it.
 */
export function serializeTokenizer(tokenizer: Tokenizer): SerializedTokenizer {
  if (tokenizer.kind === 'byte') {
    if (tokenizer.vocabSize !== 258 || tokenizer.eosTokenId !== 256 || tokenizer.padTokenId !== 257) {
      throw refuse(tokenizer, 'its ids differ from the built-in byte tokenizer');
    }
    return { kind: 'byte' };
  }
  if (tokenizer.kind !== 'hf') throw refuse(tokenizer, 'only the built-in kinds byte and hf are known');
  const json = tokenizer.toJSON?.() as { added_tokens?: Array<{ id: number; content: string }> } | undefined;
  if (!json || typeof json !== 'object') throw refuse(tokenizer, 'toJSON() gives no tokenizer.json');
  const content = (id: number) => json.added_tokens?.find((t) => t.id === id)?.content;
  const eos = content(tokenizer.eosTokenId);
  const pad = content(tokenizer.padTokenId);
  // A BOS can also be a plain vocabulary entry (see tokenizerFromJson).
  const vocab = (json as { model?: { vocab?: Record<string, number> } }).model?.vocab ?? {};
  const bos =
    tokenizer.bosTokenId === undefined
      ? undefined
      : (content(tokenizer.bosTokenId) ??
        Object.keys(vocab).find((token) => vocab[token] === tokenizer.bosTokenId));
  if (eos === undefined || pad === undefined || (tokenizer.bosTokenId !== undefined && bos === undefined)) {
    throw refuse(tokenizer, 'its EOS, pad or BOS token is not an added token of its tokenizer.json');
  }
  let data: SerializedTokenizer;
  try {
    data = {
      kind: 'hf',
      json: structuredClone(json),
      config: {
        eos_token: eos,
        pad_token: pad,
        add_bos_token: bos !== undefined,
        ...(bos === undefined ? {} : { bos_token: bos }),
      },
      vocabSize: tokenizer.vocabSize,
      eosTokenId: tokenizer.eosTokenId,
      padTokenId: tokenizer.padTokenId,
      ...(tokenizer.bosTokenId === undefined ? {} : { bosTokenId: tokenizer.bosTokenId }),
    };
  } catch (err) {
    throw refuse(tokenizer, `its tokenizer.json is not plain data: ${(err as Error).message}`);
  }
  return data;
}

/** Rebuild a tokenizer from `serializeTokenizer`; ids are checked against the original's. */
export function deserializeTokenizer(data: SerializedTokenizer): Tokenizer {
  if (data.kind === 'byte') return createByteTokenizer();
  if (data.kind !== 'hf') {
    throw new StepcoderError('TOKENIZER', `unknown serialised tokenizer kind ${JSON.stringify(data)}`);
  }
  const tokenizer = tokenizerFromJson(data.json as never, data.config, 'serialised tokenizer');
  for (const key of ['vocabSize', 'eosTokenId', 'padTokenId', 'bosTokenId'] as const) {
    if (tokenizer[key] !== data[key]) {
      throw new StepcoderError(
        'TOKENIZER',
        `serialised tokenizer rebuilt with ${key} ${tokenizer[key]}, the original has ${data[key]}`,
        { details: { key, rebuilt: tokenizer[key], original: data[key] } },
      );
    }
  }
  return tokenizer;
}

/**
 * The tokenizer's files in a saved directory: `tokenizer.json` when it has a data form, and for a
 * Hugging Face tokenizer `tokenizer_config.json` naming its EOS, pad and BOS (so that a reload, or
 * transformers' AutoTokenizer, picks the same ids: without it the pad token would fall back to EOS).
 */
export async function writeTokenizerFiles(dir: string, tokenizer: Tokenizer): Promise<void> {
  const json = tokenizer.toJSON?.();
  if (json === undefined) return;
  await writeFile(join(dir, 'tokenizer.json'), JSON.stringify(json));
  if (tokenizer.kind !== 'hf') return;
  let data: SerializedTokenizer;
  try {
    data = serializeTokenizer(tokenizer);
  } catch {
    return; // specials that are not added tokens: tokenizer.json alone, as before
  }
  if (data.kind === 'hf') {
    await writeFile(join(dir, 'tokenizer_config.json'), `${JSON.stringify(data.config, null, 2)}\n`);
  }
}
