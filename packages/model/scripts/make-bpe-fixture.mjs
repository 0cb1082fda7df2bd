// Builds test/fixtures/tiny-bpe/tokenizer.json: a GPT-2-style byte-level BPE tokenizer (GPT-2's
// pre-tokenizer regex and byte table, 256 byte tokens + 200 merges learned on a few lines of
// Python, `<|endoftext|>` as the added special token) in the exact Hugging Face format.
// Run from packages/model: `node scripts/make-bpe-fixture.mjs`.
import { mkdirSync, writeFileSync } from 'node:fs';

const corpus = `def add(a, b):
    """Return the sum of a and b."""
    return a + b

def fibonacci(n):
    if n < 2:
        return n
    return fibonacci(n - 1) + fibonacci(n - 2)

for index in range(10):
    print(index, fibonacci(index))

class Solution:
    def twoSum(self, nums, target):
        seen = {}
        for i, num in enumerate(nums):
            if target - num in seen:
                return [seen[target - num], i]
            seen[num] = i
        return []
`.repeat(3);

function bytesToUnicode() {
  const printable = [];
  for (let b = 0x21; b <= 0x7e; b++) printable.push(b);
  for (let b = 0xa1; b <= 0xac; b++) printable.push(b);
  for (let b = 0xae; b <= 0xff; b++) printable.push(b);
  let extra = 0;
  return Array.from({ length: 256 }, (_, b) =>
    printable.includes(b) ? String.fromCharCode(b) : String.fromCharCode(256 + extra++),
  );
}

const table = bytesToUnicode();
const gpt2Pattern = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;
const words = new Map();
for (const piece of corpus.match(gpt2Pattern)) {
  const symbols = [...Buffer.from(piece, 'utf8')].map((b) => table[b]);
  const key = symbols.join(' ');
  words.set(key, (words.get(key) ?? 0) + 1);
}
let entries = [...words].map(([k, n]) => [k.split(' '), n]);
const vocab = {};
table.forEach((ch, b) => {
  vocab[ch] = b;
});
const merges = [];
for (let m = 0; m < 200; m++) {
  const counts = new Map();
  for (const [syms, n] of entries) {
    for (let i = 0; i + 1 < syms.length; i++) {
      const pair = `${syms[i]} ${syms[i + 1]}`;
      counts.set(pair, (counts.get(pair) ?? 0) + n);
    }
  }
  const best = [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0];
  if (!best || best[1] < 2) break;
  const [left, right] = best[0].split(' ');
  merges.push(best[0]);
  vocab[left + right] = Object.keys(vocab).length;
  entries = entries.map(([syms, n]) => {
    const out = [];
    for (let i = 0; i < syms.length; i++) {
      if (i + 1 < syms.length && syms[i] === left && syms[i + 1] === right) {
        out.push(left + right);
        i++;
      } else out.push(syms[i]);
    }
    return [out, n];
  });
}
const eosId = Object.keys(vocab).length;
const tokenizer = {
  version: '1.0',
  truncation: null,
  padding: null,
  added_tokens: [
    {
      id: eosId,
      content: '<|endoftext|>',
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: true,
      special: true,
    },
  ],
  normalizer: null,
  pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
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
    merges,
  },
};
const dir = new URL('../test/fixtures/tiny-bpe/', import.meta.url);
mkdirSync(dir, { recursive: true });
writeFileSync(new URL('tokenizer.json', dir), JSON.stringify(tokenizer));
const lossy = { ...tokenizer, normalizer: { type: 'Lowercase' } };
mkdirSync(new URL('../lossy-bpe/', dir), { recursive: true });
writeFileSync(new URL('../lossy-bpe/tokenizer.json', dir), JSON.stringify(lossy));
console.log(`vocab ${eosId + 1}, merges ${merges.length}`);
