import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ExecutionResult, registry, StepcoderError, ValidationError } from '@stepcoder/core';
import { describe, expect, it } from 'vitest';
import { loadCheckedConfig } from '../src/config.js';
import { loadConfigPlugins } from '../src/plugins.js';
import { closestName } from '../src/suggest.js';

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(here, '../../..');
const customPluginDir = join(repoRoot, 'examples/custom-plugin');

function writeConfig(text: string | ((dir: string) => string)): string {
  const dir = mkdtempSync(join(tmpdir(), 'stepcoder-config-'));
  const path = join(dir, 'config.yaml');
  writeFileSync(path, typeof text === 'string' ? text : text(dir));
  return path;
}

function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (err: unknown) => err,
  );
}

const passIn = (durationMs: number): ExecutionResult => ({
  outcome: 'pass',
  durationMs,
  tests: [],
  passed: 1,
  total: 1,
  stdout: '',
  stderr: '',
  truncated: false,
});

// Order matters: the first test runs before examples/custom-plugin is imported into this process.
describe('config plugins: [...] (examples/custom-plugin)', () => {
  it('without the plugin listed, its name is unknown and the error says where to list it', async () => {
    const err = await rejection(loadCheckedConfig(writeConfig('reward: speed-bonus\n')));
    expect(StepcoderError.is(err, 'UNKNOWN_PLUGIN')).toBe(true);
    expect((err as Error).message).toMatch(/reward: no reward named 'speed-bonus'/);
    expect((err as Error).message).toMatch(/listed under 'plugins'/);
  });

  it('loads a plugin file named relative to the config file, then validates its options', async () => {
    const path = writeConfig((dir) =>
      [
        `plugins: ['${relative(dir, join(customPluginDir, 'src/index.ts'))}']`,
        'reward: { name: speed-bonus, options: { bonus: 0.5, budgetMs: 100 } }',
      ].join('\n'),
    );
    const config = await loadCheckedConfig(path);
    expect(config.plugins).toHaveLength(1);
    const reward = await registry.create('reward', 'speed-bonus', { bonus: 0.5, budgetMs: 100 });
    expect(reward.score(passIn(50))).toBeCloseTo(1.25);

    const bad = await rejection(
      loadCheckedConfig(path, ['reward={"name":"speed-bonus","options":{"budgetMs":-1}}']),
    );
    expect(bad).toBeInstanceOf(ValidationError);
    expect((bad as ValidationError).issues.map((i) => i.path)).toEqual(['reward.options.budgetMs']);
  });

  it('resolves a package name from the config folder (the package itself through its exports)', async () => {
    await loadConfigPlugins(['@example/custom-plugin'], customPluginDir);
    expect(registry.has('reward', 'speed-bonus')).toBe(true);
    const missing = await rejection(loadConfigPlugins(['stepcoder-plugin-not-installed'], customPluginDir));
    expect((missing as Error).message).toMatch(/plugins\[0\]: cannot load 'stepcoder-plugin-not-installed'/);
  });

  it('suggests the closest registered name for a typo, across lazily loaded packages', async () => {
    const mask = await rejection(loadCheckedConfig(writeConfig('mask: lnie\n')));
    expect((mask as Error).message).toMatch(/mask: no mask named 'lnie'\. Did you mean 'line'\?/);
    const executor = await rejection(loadCheckedConfig(writeConfig('executor: pyhton\n')));
    expect((executor as Error).message).toMatch(/Did you mean 'python'\?/);
    expect((executor as Error).message).toMatch(/Registered executors: .*'python'/);
    const reward = await rejection(loadCheckedConfig(writeConfig('reward: stepcodr\n')));
    expect((reward as Error).message).toMatch(/Did you mean 'stepcoder'\?/);
    expect(closestName('xyz', ['line', 'none'])).toBeUndefined();
  });

  it('names the config path of a bad trainer option (train.batchSize, not batchSize)', async () => {
    const err = await rejection(loadCheckedConfig(writeConfig('train: { steps: 2, batchSize: 0 }\n')));
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as ValidationError).issues.map((i) => i.path)).toEqual(['train.batchSize']);
    const unknownKey = await rejection(loadCheckedConfig(writeConfig('train: { batchSzie: 4 }\n')));
    expect((unknownKey as Error).message).toMatch(/train: Unrecognized key: "batchSzie"/);
  });
});

describe('the stepcoder command on bad input', () => {
  it('exits 2 with one line naming the typo and the fix, before any work and without a stack', () => {
    const run = spawnSync(
      process.execPath,
      ['--import', 'tsx', join(repoRoot, 'packages/cli/src/bin.ts'), 'eval', '--set', 'mask=lnie'],
      { cwd: repoRoot, encoding: 'utf8', timeout: 60_000 },
    );
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/^stepcoder: config: mask: no mask named 'lnie'\. Did you mean 'line'\?/);
    expect(run.stderr).not.toMatch(/\n\s+at /);
    // Nothing was started: no backend line from @stepcoder/model.
    expect(run.stderr).not.toMatch(/backend:/);
  });
});
