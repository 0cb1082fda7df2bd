import { describe, expect, it } from 'vitest';
import {
  checkRoundTrip,
  createBpeTokenizer,
  createByteTokenizer,
  tokenizerFromJson,
  trainByteLevelBpe,
} from '../src/base.js';

const corpus = Array.from({ length: 200 }, (_, i) => {
  const c = i % 13;
  return `Write a function f(xs) that returns the sum of the items of xs greater than ${c}.\ndef f(xs):\n    t = 0\n    for x in xs:\n        if x > ${c}:\n            t += x\n    return t\n`;
});

describe('byte-level BPE training', () => {
  it('learns merges that shorten the corpus and round-trip any text, unseen characters included', () => {
    const tok = createBpeTokenizer(corpus, { vocabSize: 400 });
    expect(tok.vocabSize).toBeGreaterThan(258);
    expect(tok.vocabSize).toBeLessThanOrEqual(400);
    const bytes = createByteTokenizer();
    const text = corpus[5]!;
    expect(tok.encode(text).length * 2.5).toBeLessThan(bytes.encode(text).length);
    for (const t of [text, 'déjà vu 🙂\n\ttabs\r\n', 'def g(yy):\n    return yy ** 2\n', '']) {
      checkRoundTrip(tok, t);
      expect(tok.decode(tok.encode(t))).toBe(t);
    }
    expect(tok.decode([tok.eosTokenId])).toBe('<|endoftext|>');
    expect(tok.eosTokenId).toBe(256);
    expect(tok.padTokenId).toBe(257);
  });

  it('is deterministic and survives the tokenizer.json round trip', () => {
    const a = trainByteLevelBpe(corpus, { vocabSize: 350 });
    const b = trainByteLevelBpe([...corpus], { vocabSize: 350 });
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
    const reloaded = tokenizerFromJson(JSON.parse(JSON.stringify(a)), {
      eos_token: '<|endoftext|>',
      pad_token: '<|pad|>',
    });
    expect(reloaded.encode(corpus[3]!)).toEqual(
      createBpeTokenizer(corpus, { vocabSize: 350 }).encode(corpus[3]!),
    );
  });

  it('stops when no pair reaches minFrequency and rejects a vocabulary below the byte alphabet', () => {
    const tok = createBpeTokenizer(['ab'], { vocabSize: 1000 });
    expect(tok.vocabSize).toBe(258);
    expect(() => trainByteLevelBpe(corpus, { vocabSize: 100 })).toThrow(/vocabSize must be an integer ≥ 258/);
  });
});
