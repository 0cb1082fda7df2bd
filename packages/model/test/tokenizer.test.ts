import { fileURLToPath } from 'node:url';
import { StepcoderError } from '@stepcoder/core';
import { describe, expect, it } from 'vitest';
import { checkRoundTrip, createByteTokenizer, loadTokenizer, type Tokenizer } from '../src/base.js';

const fixture = (name: string) =>
  fileURLToPath(new URL(`./fixtures/${name}/tokenizer.json`, import.meta.url));

const SAMPLES = [
  'def add(a, b):\n    return a + b\n',
  'line one\r\nline two\r\n\tindented\twith\ttabs\r\n',
  `${'a_very_long_identifier_name_that_keeps_going_'.repeat(8)}= 1`,
  'unicode: héllo wörld — ñandú — 日本語のテキスト — 🎉🐍 — e\u0301 (combining) — 𝔘𝔫𝔦𝔠𝔬𝔡𝔢',
  '',
  '   leading and trailing spaces   ',
  'print("<|endoftext|>")',
];

function expectOffsetsMatchTokens(tok: Tokenizer, text: string): void {
  const { ids, offsets } = tok.encodeWithOffsets(text);
  expect(offsets).toHaveLength(ids.length);
  const { text: decoded, spans } = tok.decodeWithSpans!(ids);
  expect(decoded).toBe(text);
  // Offsets from encoding and spans from decoding agree token by token.
  expect(spans).toEqual(offsets);
}

describe('byte tokenizer', () => {
  const tok = createByteTokenizer();

  it('round-trips code, CRLF, tabs, long identifiers and unicode', () => {
    for (const s of SAMPLES) {
      expect(tok.decode(tok.encode(s))).toBe(s);
      checkRoundTrip(tok, s);
      expectOffsetsMatchTokens(tok, s);
    }
  });

  it('round-trips lone surrogates (WTF-8)', () => {
    const s = 'a\ud800b\udc00c\ud83d';
    expect(tok.decode(tok.encode(s))).toBe(s);
  });

  it('gives every byte of a multi-byte character the span of that character', () => {
    const { ids, offsets } = tok.encodeWithOffsets('a🎉b');
    expect(ids).toHaveLength(6);
    expect(offsets).toEqual([
      [0, 1],
      [1, 3],
      [1, 3],
      [1, 3],
      [1, 3],
      [3, 4],
    ]);
  });

  it('decodes invalid byte sequences to U+FFFD as TextDecoder does', () => {
    const bytes = [0x61, 0xff, 0xe6, 0x97, 0x62, 0xf0, 0x9f, 0x8e, 0x89];
    expect(tok.decode(bytes)).toBe(new TextDecoder().decode(Uint8Array.from(bytes)));
  });

  it('has 256 byte ids plus EOS and pad, and never encodes specials from text', () => {
    expect(tok.vocabSize).toBe(258);
    expect(tok.eosTokenId).toBe(256);
    expect(tok.padTokenId).toBe(257);
    expect(tok.encode('<|endoftext|>').every((id) => id < 256)).toBe(true);
    expect(tok.decode([104, 105, 256])).toBe('hi<|endoftext|>');
  });

  it('rejects ids outside the vocabulary with a TOKENIZER error', () => {
    expect(() => tok.decode([300])).toThrow(StepcoderError);
  });
});

describe('Hugging Face tokenizer.json (byte-level BPE)', () => {
  it('loads the fixture, merges, and round-trips with offsets', async () => {
    const tok = await loadTokenizer(fixture('tiny-bpe'));
    expect(tok.vocabSize).toBe(374);
    expect(tok.eosTokenId).toBe(373);
    expect(tok.padTokenId).toBe(373);
    const ids = tok.encode('def fibonacci(n):');
    // Merges learned on the fixture corpus make words single tokens.
    expect(ids.length).toBeLessThan('def fibonacci(n):'.length / 2);
    expect(tok.decode(tok.encode(' fibonacci'))).toBe(' fibonacci');
    for (const s of SAMPLES) {
      checkRoundTrip(tok, s);
      expectOffsetsMatchTokens(tok, s);
    }
  });

  it('maps each token to the text it spells', async () => {
    const tok = await loadTokenizer(fixture('tiny-bpe'));
    const text = 'for index in range(10):\r\n\tprint(index)';
    const { ids, offsets } = tok.encodeWithOffsets(text);
    const pieces = offsets.map(([s, e]) => text.slice(s, e));
    expect(pieces.join('')).toBe(text);
    expect(pieces).toContain(' index');
    expect(ids.length).toBe(pieces.length);
  });

  it('recognises the special token in text as HF does', async () => {
    const tok = await loadTokenizer(fixture('tiny-bpe'));
    const ids = tok.encode('x<|endoftext|>');
    expect(ids[ids.length - 1]).toBe(tok.eosTokenId);
  });

  it('fails with a TOKENIZER error when a normaliser makes offsets impossible', async () => {
    const tok = await loadTokenizer(fixture('lossy-bpe'));
    let error: unknown;
    try {
      checkRoundTrip(tok, 'Hello World');
    } catch (err) {
      error = err;
    }
    expect(StepcoderError.is(error, 'TOKENIZER')).toBe(true);
  });

  it('detects a tokenizer that does not round-trip', () => {
    const lossy: Tokenizer = {
      vocabSize: 2,
      eosTokenId: 0,
      padTokenId: 0,
      encode: (t) => Array.from(t, () => 1),
      encodeWithOffsets: (t) => ({
        ids: Array.from(t, () => 1),
        offsets: Array.from(t, (_, i) => [i, i + 1]),
      }),
      decode: (ids) => ids.map(() => '?').join(''),
    };
    expect(() => checkRoundTrip(lossy, 'ab')).toThrow(/does not round-trip: .* at char 0/);
  });

  it('reports a missing file as a TOKENIZER error', async () => {
    await expect(loadTokenizer('/nonexistent/tokenizer.json')).rejects.toMatchObject({ code: 'TOKENIZER' });
  });
});
