import { describe, expect, it } from 'vitest';
import { evaluatePassAtK, passAtK, plainPrompt, runSft } from '../src/index.js';
import { letterExecutor, microPolicy, problems } from './helpers.js';

describe('runSft', () => {
  it('trains on target tokens only: the first loss is the target cross-entropy, and it falls', async () => {
    const policy = await microPolicy(11);
    const probs = problems(3);
    // Independent check through the model's own scorer: mean −log π over target + EOS tokens.
    const tok = policy.tokenizer;
    const seqs = probs.map((p) => {
      const cp = plainPrompt(p);
      return { prompt: tok.encode(cp.prompt), target: [...tok.encode(cp.target), tok.eosTokenId] };
    });
    const len = Math.max(...seqs.map((s) => s.prompt.length + s.target.length));
    const ids = seqs.map((s) => [
      ...new Array(len - s.prompt.length - s.target.length).fill(tok.padTokenId),
      ...s.prompt,
      ...s.target,
    ]);
    const mask = seqs.map((s) =>
      ids[0]!.map((_, i) => (i >= len - s.prompt.length - s.target.length ? 1 : 0)),
    );
    const scored = await policy.scoreTokens(ids, mask);
    let sum = 0;
    let count = 0;
    seqs.forEach((s, i) => {
      for (let j = 0; j < s.target.length; j++) {
        sum -= scored.logprobs[i]![len - s.target.length + j - 1]!;
        count++;
      }
    });
    const result = await runSft({
      policy,
      problems: probs,
      epochs: 8,
      batchSize: 3,
      lr: 1e-2,
      seed: 1,
      maxLength: 64,
    });
    expect(result.examples).toBe(3);
    expect(result.losses[0]).toBeCloseTo(sum / count, 4);
    expect(result.epochLosses.at(-1)!).toBeLessThan(result.epochLosses[0]! * 0.8);
    policy.dispose();
  });
});

describe('evaluatePassAtK', () => {
  it('reports unbiased pass@k overall and per difficulty as JSON', async () => {
    const policy = await microPolicy(4);
    const probs = problems(4);
    const report = await evaluatePassAtK({
      policy,
      problems: probs,
      executor: letterExecutor({ failOn: ['p3'] }),
      k: [1, 2],
      n: 3,
      seed: 5,
      maxNewTokens: 4,
      batchSize: 5,
    });
    expect(report.perProblem.map((p) => p.id)).toEqual(['p0', 'p1', 'p2', 'p3']);
    // p3's executor always fails: infrastructure errors, not failures
    expect(report.perProblem[3]).toMatchObject({ n: 0, c: 0, infraErrors: 3 });
    const judged = report.perProblem.filter((p) => p.n >= 1);
    const p1 = judged.reduce((a, p) => a + p.c / p.n, 0) / judged.length;
    expect(report.passAtK['pass@1']).toBeCloseTo(p1, 10);
    const p2 = judged.reduce((a, p) => a + passAtK(p.n, p.c, 2), 0) / judged.length;
    expect(report.passAtK['pass@2']).toBeCloseTo(p2, 10);
    expect(Object.keys(report.byDifficulty)).toEqual(['interview', 'introductory']);
    expect(report.byDifficulty.introductory!.problems).toBe(2);
    expect(JSON.parse(JSON.stringify(report)).passAtK).toEqual(report.passAtK);
    await expect(
      evaluatePassAtK({ policy, problems: probs, executor: letterExecutor(), k: [5], n: 3, seed: 1 }),
    ).rejects.toThrow(/k must be/);
    policy.dispose();
  });
});

describe('evaluatePassAtK with a generator worker (both cores)', () => {
  it('deals chunks to the worker too, and a run with the same generators reproduces', async () => {
    const { createGeneratorWorker } = await import('@stepcoder/model');
    const policy = await microPolicy(6);
    const probs = problems(6);
    const run = async () => {
      const worker = await createGeneratorWorker.fromPolicy(policy);
      let workerCalls = 0;
      const counted = {
        generate: (prompts: string[], o: Parameters<typeof worker.generate>[1]) => {
          workerCalls++;
          return worker.generate(prompts, o);
        },
        setWeights: (w: Parameters<typeof worker.setWeights>[0]) => worker.setWeights(w),
      };
      try {
        const report = await evaluatePassAtK({
          policy,
          problems: probs,
          executor: letterExecutor(),
          k: [1],
          n: 4,
          seed: 9,
          maxNewTokens: 4,
          temperature: 1,
          batchSize: 4,
          generators: [counted],
        });
        return { report, workerCalls };
      } finally {
        await worker.dispose();
      }
    };
    const a = await run();
    const b = await run();
    // 24 jobs in chunks of 4: chunks 1, 3, 5 go to the worker.
    expect(a.workerCalls).toBe(3);
    expect(a.report.perProblem.reduce((s, p) => s + p.n, 0)).toBe(24);
    expect(b.report.perProblem).toEqual(a.report.perProblem);
    policy.dispose();
  });
});
