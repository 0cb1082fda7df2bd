import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig, runPipeline } from '@stepcoder/cli';
import { registry } from '@stepcoder/core';
import { describe, expect, it } from 'vitest';
import '../src/index.js';

const tests = {
  kind: 'stdio' as const,
  cases: [
    { input: '2 3\n', output: '5\n' },
    { input: '10 -4\n', output: '6\n' },
  ],
};
const read = "const [a, b] = require('fs').readFileSync(0, 'utf8').trim().split(/\\s+/).map(Number);\n";

describe('custom executor plugin', () => {
  it('is created by name and judges real node subprocesses', async () => {
    const executor = await registry.create('executor', 'node-subprocess', { timeoutMs: 3000 });
    const pass = await executor.run({ program: `${read}console.log(a + b);`, tests });
    expect(pass.outcome).toBe('pass');
    expect(pass.passed).toBe(2);
    const wrong = await executor.run({ program: `${read}console.log(a * b);`, tests });
    expect(wrong.outcome).toBe('wrong_answer');
    const crash = await executor.run({ program: `${read}throw new Error('boom');`, tests });
    expect(crash.outcome).toBe('runtime_error');
    const syntax = await executor.run({ program: 'console.log(', tests });
    expect(syntax.outcome).toBe('compile_error');
    const slow = await (await registry.create('executor', 'node-subprocess', { timeoutMs: 300 })).run({
      program: 'while (true) {}',
      tests,
      stopOnFirstFailure: true,
    });
    expect(slow.outcome).toBe('timeout');
    const broken = await (
      await registry.create('executor', 'node-subprocess', { nodePath: '/nonexistent/node' })
    ).run({
      program: 'console.log(1)',
      tests,
    });
    expect(broken.outcome).toBe('infra_error');
    await expect(registry.create('executor', 'node-subprocess', { timeoutMs: -5 })).rejects.toThrow(
      /timeoutMs/,
    );
  });

  it('plugs into the trainer by name from config', async () => {
    const configPath = fileURLToPath(new URL('../../tiny-js/config.yaml', import.meta.url));
    const config = loadConfig(configPath, [
      'executor=node-subprocess',
      'data.options={"filter":{"testKinds":["stdio"]}}',
      `outDir=${mkdtempSync(join(tmpdir(), 'custom-executor-'))}`,
      'data.limit=3',
      'data.evalFraction=0',
      'sft.epochs=0',
      'train.steps=1',
      'train.batchSize=2',
      'train.generation.maxNewTokens=16',
      'eval.maxNewTokens=8',
      'eval.n=1',
    ]);
    const summary = await runPipeline(config, { quiet: true, out: { write: () => true } as never });
    expect(summary.iterations).toHaveLength(1);
    expect(summary.iterations[0]!.metrics.reward_mean).toBeLessThanOrEqual(1);
  });
});
