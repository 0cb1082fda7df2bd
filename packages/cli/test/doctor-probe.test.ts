import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkIsolatedVm, needsOf, probeIsolatedVm } from '../src/doctor-checks.js';

// The isolated-vm check starts its isolate in a child Node process, so that an addon that aborts
// (on load, or at process teardown: seen once in CI) is reported, never fatal to the doctor or to
// a run's start-up check. Each case below is a real module in a real child process; the ones that
// abort wrap the real isolated-vm.
const realEntry = createRequire(
  createRequire(import.meta.url).resolve('@stepcoder/executor-js/package.json'),
).resolve('isolated-vm');
const dir = mkdtempSync(join(tmpdir(), 'stepcoder-ivm-probe-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function moduleFile(name: string, body: string): string {
  const file = join(dir, name);
  writeFileSync(file, body);
  return file;
}

const needs = needsOf(undefined);

describe('the isolated-vm probe', () => {
  it('passes on the real isolated-vm, naming the file it loaded', () => {
    const result = checkIsolatedVm(needs);
    expect(result).toMatchObject({ name: 'isolated-vm', ok: true, required: true });
    expect(result.summary).toMatch(/^\d+\.\d+\.\d+, an isolate starts$/);
    expect(result.detail).toBe(`loaded from ${realEntry}`);
  });

  it('reports an addon that aborts on load as a failed check, and the doctor lives on', () => {
    const aborts = moduleFile('aborts-on-load.js', 'process.abort();\n');
    const result = probeIsolatedVm(aborts, '0.0.0', needs);
    expect(result.ok).toBe(false);
    expect(result.required).toBe(true);
    expect(result.summary).toMatch(/^not usable: the probe process ended with signal SIGABRT/);
    expect(result.fix).toMatch(/pnpm rebuild isolated-vm/);
    expect(result.detail).toContain(aborts);
  });

  it('reports a load error with its message', () => {
    const throws = moduleFile(
      'throws-on-load.js',
      "throw new Error('isolated_vm.node: undefined symbol: _ZN2v87Isolate10GetCurrentEv');\n",
    );
    const result = probeIsolatedVm(throws, '0.0.0', needs);
    expect(result.ok).toBe(false);
    expect(result.summary).toMatch(/exit code 1: .*undefined symbol/);
  });

  it('passes an isolate that answered and then aborted at exit, saying so', () => {
    const abortsAtExit = moduleFile(
      'aborts-at-exit.js',
      `module.exports = require(${JSON.stringify(realEntry)});\nprocess.on('exit', () => process.abort());\n`,
    );
    const result = probeIsolatedVm(abortsAtExit, '5.0.4', needs);
    expect(result.ok).toBe(true);
    expect(result.summary).toBe(
      '5.0.4, an isolate starts (the probe answered, then ended with signal SIGABRT)',
    );
  });

  it('fails an isolate that computes the wrong answer', () => {
    const wrong = moduleFile(
      'wrong-answer.js',
      `const ivm = require(${JSON.stringify(realEntry)});
class Isolate extends ivm.Isolate {
  compileScriptSync() { return super.compileScriptSync('6 * 9'); }
}
module.exports = { ...ivm, Isolate };
`,
    );
    const result = probeIsolatedVm(wrong, '5.0.4', needs);
    expect(result.ok).toBe(false);
    expect(result.summary).toBe('not usable: an isolate computed 6 * 7 = 54');
  });
});
