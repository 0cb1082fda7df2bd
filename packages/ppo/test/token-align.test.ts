import { alignPromptToTokens, type CurriculumPrompt } from '@stepcoder/core';
import { createStepsCurriculum } from '@stepcoder/curriculum';
import { generateSyntheticSuite } from '@stepcoder/datasets';
import { createBpeTokenizer, createByteTokenizer, type Tokenizer } from '@stepcoder/model';
import { describe, expect, it } from 'vitest';
import { sftExamples } from '../src/index.js';

// A seeded sample of the procedural suite: every family, every stage of every problem.
const suite = generateSyntheticSuite({ language: 'python', count: 300, seed: 11, testFraction: 0.1 });
const sample = suite.train.slice(0, 90);
const bpe = createBpeTokenizer(
  suite.train.flatMap((p) => [p.prompt, p.starterCode ?? '', ...p.canonicalSolutions]),
  { vocabSize: 700 },
);
const tokenizers: Array<[string, Tokenizer]> = [
  ['byte', createByteTokenizer()],
  ['bpe', bpe],
];

async function everyStage(): Promise<CurriculumPrompt[]> {
  const curriculum = createStepsCurriculum({});
  const out: CurriculumPrompt[] = [];
  for (const p of sample) {
    const first = await curriculum.prompt(p, 0);
    for (let s = 0; s < first.stageCount; s++) out.push(await curriculum.prompt(p, s));
  }
  return out;
}

const joins = (tok: Tokenizer, cp: CurriculumPrompt) =>
  [...tok.encode(cp.prompt), ...tok.encode(cp.target)].join(',') ===
  tok.encode(cp.prompt + cp.target).join(',');

describe('token-boundary-safe curriculum prompts', () => {
  it.each(tokenizers)(
    '%s: prompt tokens + remainder tokens == joint tokens on every stage',
    async (_, tok) => {
      const stages = await everyStage();
      expect(stages.length).toBeGreaterThan(2 * sample.length); // CCCS stages, not only whole programs
      for (const cp of stages) {
        const { prompt: aligned, status } = alignPromptToTokens(cp, tok);
        expect(status).not.toBe('unaligned');
        expect(joins(tok, aligned)).toBe(true);
        // The text is only re-cut: the same joint text, the same program that runs.
        expect(aligned.prompt + aligned.target).toBe(cp.prompt + cp.target);
        expect(aligned.completionStart).toBe(aligned.givenPrefix.length);
        expect(cp.givenPrefix.startsWith(aligned.givenPrefix)).toBe(true);
        expect(aligned.prompt.endsWith(aligned.givenPrefix)).toBe(true);
      }
    },
  );

  it('the raw line-start cut breaks the property under BPE (what alignment fixes)', async () => {
    const stages = (await everyStage()).filter((cp) => cp.stage < cp.stageCount - 1);
    const broken = stages.filter((cp) => !joins(bpe, cp));
    // The newline + indentation token straddles nearly every line-start cut.
    expect(broken.length / stages.length).toBeGreaterThan(0.9);
    const moved = broken.map((cp) => alignPromptToTokens(cp, bpe));
    expect(moved.every((m) => m.status === 'moved' && m.moved > 0)).toBe(true);
    // The cut moves back over the newline: the prefix ends on code, the target opens the next line.
    expect(moved.every((m) => m.prompt.target.startsWith('\n'))).toBe(true);
  });

  it('works for a tokenizer with encode alone (no offsets) and never cuts into the statement', () => {
    const encodeOnly = { encode: (t: string) => bpe.encode(t) };
    const cp: CurriculumPrompt = {
      prompt: '# add one\n\ndef f(x):\n',
      givenPrefix: 'def f(x):\n',
      target: '    return x + 1\n',
      completionStart: 10,
      stage: 0,
      stageCount: 2,
    };
    const a = alignPromptToTokens(cp, encodeOnly);
    expect(a.status).not.toBe('unaligned');
    expect(joins(bpe, a.prompt)).toBe(true);
    expect(a.prompt.prompt.startsWith('# add one')).toBe(true);
  });
});

describe('SFT completion mixing', () => {
  it('adds seeded CCCS-stage examples whose loss covers only the remainder, token-aligned', async () => {
    const curriculum = createStepsCurriculum({});
    const problems = sample.slice(0, 40);
    const build = (seed: number) =>
      sftExamples({
        problems,
        tokenizer: bpe,
        maxLength: 512,
        seed,
        completionMix: { curriculum, fraction: 0.5 },
      });
    const built = await build(3);
    expect(built.examples.length).toBe(problems.length + built.completionExamples);
    expect(built.completionExamples).toBe(20);
    const whole = built.examples.slice(0, problems.length);
    const completions = built.examples.slice(problems.length);
    for (const [i, ex] of completions.entries()) {
      const cp = built.prompts[problems.length + i]!;
      // A non-final stage: more than the starter code is given, the target is a strict suffix.
      expect(cp.stage).toBeLessThan(cp.stageCount - 1);
      const problem = problems.find((p) => cp.prompt.includes(p.prompt.split('\n')[0]!))!;
      const program = problem.canonicalSolutions[0]!;
      expect(program.endsWith(cp.target)).toBe(true);
      expect(cp.target.length).toBeLessThan(program.length - (problem.starterCode ?? '').length);
      // Loss tokens (tokenIds) are the remainder + EOS; the prompt conditions only.
      expect(ex.tokenIds.at(-1)).toBe(bpe.eosTokenId);
      expect(bpe.decode(ex.tokenIds.slice(0, -1))).toBe(cp.target);
      expect([...ex.promptIds, ...ex.tokenIds.slice(0, -1)]).toEqual(bpe.encode(cp.prompt + cp.target));
    }
    // Whole-program examples are aligned as well.
    for (const ex of whole) expect(ex.tokenIds.at(-1)).toBe(bpe.eosTokenId);
    // Seeded: the same seed picks the same stages, another seed others.
    const again = await build(3);
    expect(again.prompts.map((p) => p.prompt)).toEqual(built.prompts.map((p) => p.prompt));
    const other = await build(4);
    expect(other.prompts.map((p) => p.prompt)).not.toEqual(built.prompts.map((p) => p.prompt));
  });
});

describe('SFT examples with a BOS tokenizer', () => {
  it("put the tokenizer's BOS in front of every prompt, as generation does", async () => {
    // GPT-2 style: BOS is the <|endoftext|> token. The tokenizer's functions are closures.
    const withBos: Tokenizer = { ...bpe, bosTokenId: bpe.eosTokenId };
    const options = { problems: sample.slice(0, 12), maxLength: 512, seed: 1 };
    const plain = await sftExamples({ ...options, tokenizer: bpe });
    const bos = await sftExamples({ ...options, tokenizer: withBos });
    expect(bos.examples).toHaveLength(plain.examples.length);
    for (const [i, ex] of bos.examples.entries()) {
      expect(ex.promptIds[0]).toBe(bpe.eosTokenId);
      expect(ex.promptIds.slice(1)).toEqual(plain.examples[i]!.promptIds);
      expect(ex.tokenIds).toEqual(plain.examples[i]!.tokenIds);
    }
  });
});
