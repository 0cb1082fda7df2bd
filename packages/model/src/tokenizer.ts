import { StepcoderError } from '@stepcoder/core';
import { decodeUtf8Groups, encodeUtf8 } from './utf8.js';

export interface Tokenizer {
  readonly vocabSize: number;
  readonly eosTokenId: number;
  readonly padTokenId: number;
  /**
   * Prepended to every prompt (and SFT example) before the model sees it: Hugging Face's
   * `add_bos_token`, or the leading special token of tokenizer.json's post-processor (Llama 3,
   * DeepSeek-Coder). Absent: nothing is prepended (GPT-2, Qwen2, the byte tokenizer). `encode`
   * never adds it.
   */
  readonly bosTokenId?: number;
  encode(text: string): number[];
  /** Ids plus the `[start, end)` UTF-16 offsets in `text` of each token. */
  encodeWithOffsets(text: string): { ids: number[]; offsets: Array<[number, number]> };
  decode(ids: readonly number[]): string;
  /**
   * Decoded text plus each token's `[start, end)` span in it. Optional for third-party
   * tokenizers: the policy falls back to prefix decoding when absent.
   */
  decodeWithSpans?(ids: readonly number[]): { text: string; spans: Array<[number, number]> };
  /** How to persist this tokenizer in a checkpoint; absent means "save nothing". */
  toJSON?(): unknown;
  /** `byte` for the built-in tokenizer, `hf` for a loaded tokenizer.json. */
  readonly kind?: 'byte' | 'hf' | (string & {});
}

/**
 * GPT-2's reversible byte → printable-character table: byte-level BPE vocabularies spell every
 * byte as one of these characters.
 */
export function bytesToUnicode(): string[] {
  const printable: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) printable.push(b);
  for (let b = 0xa1; b <= 0xac; b++) printable.push(b);
  for (let b = 0xae; b <= 0xff; b++) printable.push(b);
  const table = new Array<string>(256);
  let extra = 0;
  for (let b = 0; b < 256; b++) {
    table[b] = printable.includes(b) ? String.fromCharCode(b) : String.fromCharCode(256 + extra++);
  }
  return table;
}

export const BYTE_EOS = '<|endoftext|>';
export const BYTE_PAD = '<|pad|>';

/**
 * The built-in tokenizer for from-scratch models: ids 0–255 are bytes of the UTF-8 (WTF-8 for
 * lone surrogates) encoding, 256 is `<|endoftext|>` (EOS), 257 is `<|pad|>`. Special tokens are
 * never produced by `encode` (their text is encoded as bytes), so prompts cannot inject them.
 */
export function createByteTokenizer(): Tokenizer {
  const eos = 256;
  const pad = 257;
  const specials = new Map<number, Uint8Array>([
    [eos, encodeUtf8(BYTE_EOS).bytes],
    [pad, encodeUtf8(BYTE_PAD).bytes],
  ]);
  const single = Array.from({ length: 256 }, (_, b) => Uint8Array.of(b));
  const groups = (ids: readonly number[]) =>
    ids.map((id) => {
      const g = id < 256 && id >= 0 ? single[id] : specials.get(id);
      if (!g) {
        throw new StepcoderError('TOKENIZER', `byte tokenizer: token id ${id} is outside 0..257`, {
          details: { id },
        });
      }
      return g;
    });
  const tokenizer: Tokenizer = {
    kind: 'byte',
    vocabSize: 258,
    eosTokenId: eos,
    padTokenId: pad,
    encode: (text) => Array.from(encodeUtf8(text).bytes),
    encodeWithOffsets(text) {
      const e = encodeUtf8(text);
      const offsets: Array<[number, number]> = Array.from(e.bytes, (_, i) => [
        e.charStart[i]!,
        e.charEnd[i]!,
      ]);
      return { ids: Array.from(e.bytes), offsets };
    },
    decode: (ids) => decodeUtf8Groups(groups(ids)).text,
    decodeWithSpans: (ids) => decodeUtf8Groups(groups(ids)),
    toJSON: () => byteTokenizerJson(),
  };
  return tokenizer;
}

/** The byte tokenizer written as a Hugging Face tokenizer.json (byte-level BPE without merges). */
/** One `added_tokens` entry of a tokenizer.json for a special token (matched verbatim in text). */
export function specialAddedToken(id: number, content: string) {
  return { id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true };
}

export function byteTokenizerJson(): Record<string, unknown> {
  const table = bytesToUnicode();
  const vocab: Record<string, number> = {};
  table.forEach((ch, b) => {
    vocab[ch] = b;
  });
  const added = [BYTE_EOS, BYTE_PAD].map((content, i) => specialAddedToken(256 + i, content));
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false },
    post_processor: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: '',
      end_of_word_suffix: '',
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab,
      merges: [],
    },
  };
}

/**
 * Throws StepcoderError 'TOKENIZER' unless `decode(encode(text)) === text` and the offsets tile
 * the text: the FGO mask maps characters to tokens, so a lossy tokenizer would mask wrong tokens.
 */
export function checkRoundTrip(tokenizer: Tokenizer, text: string): void {
  const { ids, offsets } = tokenizer.encodeWithOffsets(text);
  const back = tokenizer.decode(ids);
  if (back !== text) {
    let at = 0;
    while (at < text.length && text[at] === back[at]) at++;
    throw new StepcoderError(
      'TOKENIZER',
      `tokenizer does not round-trip: decode(encode(text)) differs from text at char ${at} ` +
        `(expected ${JSON.stringify(text.slice(at, at + 12))}, got ${JSON.stringify(back.slice(at, at + 12))})`,
      { details: { at, expected: text.slice(at, at + 40), got: back.slice(at, at + 40) } },
    );
  }
  let covered = 0;
  for (let i = 0; i < offsets.length; i++) {
    const [s, e] = offsets[i]!;
    if (s > covered || e < s || e > text.length) {
      throw new StepcoderError(
        'TOKENIZER',
        `tokenizer offsets do not cover the text: token ${i} has span [${s}, ${e}) after char ${covered}`,
        { details: { token: i, span: [s, e], covered } },
      );
    }
    covered = Math.max(covered, e);
  }
  if (covered !== text.length) {
    throw new StepcoderError('TOKENIZER', `tokenizer offsets end at char ${covered} of ${text.length}`, {
      details: { covered, length: text.length },
    });
  }
}
