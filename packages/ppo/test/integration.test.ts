import '@stepcoder/coverage-mask';
import '@stepcoder/curriculum';
import '@stepcoder/executor-python';
import '@stepcoder/reward';
import { createEventBus, type Problem } from '@stepcoder/core';
import { describe, expect, it } from 'vitest';
import { createTrainer } from '../src/index.js';
import { microPolicy } from './helpers.js';

/** Two APPS-style stdio problems written for this test (no external data). */
const problems: Problem[] = [
  {
    id: 'double',
    prompt: 'Read an integer n and print 2n.',
    language: 'python',
    canonicalSolutions: ['n = int(input())\nif n < 0:\n    print(-2 * -n)\nelse:\n    print(2 * n)\n'],
    tests: {
      kind: 'stdio',
      cases: [
        { input: '3\n', output: '6\n' },
        { input: '-4\n', output: '-8\n' },
      ],
    },
    difficulty: 'introductory',
  },
  {
    id: 'sum',
    prompt: 'Read n and print 1 + 2 + ... + n.',
    language: 'python',
    canonicalSolutions: [
      'n = int(input())\ntotal = 0\nfor k in range(n + 1):\n    total += k\nprint(total)\n',
    ],
    tests: {
      kind: 'stdio',
      cases: [
        { input: '4\n', output: '10\n' },
        { input: '1\n', output: '1\n' },
      ],
    },
    difficulty: 'introductory',
  },
];

describe('trainer with the real plugins, created by name', () => {
  it('runs an iteration with the Python executor, FGO line mask, CCCS steps and the StepCoder reward', async () => {
    // Room for the longest CCCS prompt (81 tokens) + 8 new ones: longer prompts are skipped.
    const policy = await microPolicy(8, { nPositions: 128 });
    const events = createEventBus();
    const skipped: string[] = [];
    events.on('sample:skipped', (s) => skipped.push(`${s.reason}: ${String(s.details?.error)}`));
    const trainer = await createTrainer({
      policy,
      problems,
      seed: 1,
      executor: { name: 'python', options: { poolSize: 2 } },
      reward: 'stepcoder',
      mask: 'line',
      curriculum: 'steps',
      batchSize: 2,
      samplesPerPrompt: 2,
      generation: { maxNewTokens: 8 },
      ppo: { epochs: 1, minibatchSize: 4 },
      events,
    });
    const [r] = await trainer.train(1);
    expect(skipped).toEqual([]);
    expect(r!.samples).toBe(4);
    // the early CCCS stages give most of the program, so some samples keep it runnable
    expect(r!.metrics.reward_mean).toBeGreaterThanOrEqual(-1);
    expect(r!.metrics.masked_fraction).toBeGreaterThanOrEqual(0);
    expect(r!.metrics.masked_fraction).toBeLessThanOrEqual(1);
    await trainer.dispose();
    policy.dispose();
  });
});
