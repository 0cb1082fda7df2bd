import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

// `stepcoder doctor` and the start-up checks as a user meets them: the real bin in a child
// process, the machine changed through PATH and env only.
const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const bin = join(repoRoot, 'packages/cli/src/bin.ts');

function stepcoder(args: string[], env: NodeJS.ProcessEnv = process.env) {
  return spawnSync(process.execPath, ['--import', 'tsx', bin, ...args], {
    cwd: repoRoot,
    encoding: 'utf8',
    timeout: 120_000,
    env,
  });
}

/** The line of one check in doctor's output (`ok   gemm   …`). */
function lineOf(stdout: string, name: string): string {
  const line = stdout.split('\n').find((l) => new RegExp(`^(ok  |FAIL|warn) ${name}\\s`).test(l));
  if (!line) throw new Error(`no '${name}' line in:\n${stdout}`);
  return line;
}

// A PATH with node and python3 and nothing else: no bwrap, no redis-server.
const bareBin = mkdtempSync(join(tmpdir(), 'stepcoder-doctor-path-'));
symlinkSync(process.execPath, join(bareBin, 'node'));
symlinkSync(
  execFileSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' }).trim(),
  join(bareBin, 'python3'),
);
afterAll(() => rmSync(bareBin, { recursive: true, force: true }));

describe('stepcoder doctor', () => {
  it('exits 0 on this machine and prints one line per check', () => {
    const run = stepcoder(['doctor']);
    expect(run.status, run.stdout + run.stderr).toBe(0);
    for (const name of ['node', 'python3', 'isolated-vm', 'gemm', 'bubblewrap', 'tfjs-node', 'redis']) {
      lineOf(run.stdout, name);
    }
    expect(lineOf(run.stdout, 'node')).toMatch(/^ok {3}node\s+v\d+\.\d+\.\d+ \(needs >= 20\.19\)/);
    expect(lineOf(run.stdout, 'python3')).toMatch(/^ok {3}python3\s+3\.\d+\.\d+/);
    expect(lineOf(run.stdout, 'isolated-vm')).toMatch(/an isolate starts/);
    expect(lineOf(run.stdout, 'bubblewrap')).toMatch(/^ok {3}bubblewrap\s+namespaces start/);
    expect(run.stdout).toMatch(/everything the default config needs is here/);
  });

  it('--json gives every check as {name, ok, required, summary}', () => {
    const run = stepcoder(['doctor', '--json']);
    expect(run.status).toBe(0);
    const report = JSON.parse(run.stdout) as {
      ok: boolean;
      checks: Array<{ name: string; ok: boolean; required: boolean; summary: string }>;
    };
    expect(report.ok).toBe(true);
    expect(report.checks.map((c) => c.name)).toEqual([
      'node',
      'python3',
      'isolated-vm',
      'gemm',
      'bubblewrap',
      'tfjs-node',
      'redis',
    ]);
    const required = Object.fromEntries(report.checks.map((c) => [c.name, c.required]));
    expect(required).toMatchObject({ node: true, python3: true, 'isolated-vm': true, bubblewrap: true });
    expect(required).toMatchObject({ gemm: false, 'tfjs-node': false, redis: false });
  });

  it('without bwrap on PATH: exits 1, names bubblewrap and the fix', () => {
    const run = stepcoder(['doctor'], { ...process.env, PATH: bareBin });
    expect(run.status, run.stdout + run.stderr).toBe(1);
    expect(lineOf(run.stdout, 'bubblewrap')).toMatch(
      /^FAIL bubblewrap\s+namespaces unavailable: .*not on PATH/,
    );
    expect(run.stdout).toMatch(/fix: apt-get install bubblewrap, or set sandbox: 'rlimits'/);
    expect(run.stdout).toMatch(/missing what the default config needs: bubblewrap/);
    // Only bubblewrap is missing from what is required; redis is informational.
    expect(lineOf(run.stdout, 'python3')).toMatch(/^ok/);
    expect(lineOf(run.stdout, 'redis')).toMatch(/^warn redis\s+redis-server not on PATH.*\(optional\)/);
  });

  it('without bwrap, a config that opts out with sandbox: rlimits passes', () => {
    const run = stepcoder(['doctor', '--set', 'executor={"name":"python","options":{"sandbox":"rlimits"}}'], {
      ...process.env,
      PATH: bareBin,
    });
    expect(run.status, run.stdout + run.stderr).toBe(0);
    expect(lineOf(run.stdout, 'bubblewrap')).toMatch(/not used: the config sets sandbox: 'rlimits'/);
  });

  it('without the system BLAS: the gemm line says which GEMM runs instead and why', () => {
    const missing = '/nonexistent/libopenblas.so.0';
    const run = stepcoder(['doctor', '--verbose'], { ...process.env, STEPCODER_BLAS: missing });
    expect(run.status, run.stdout + run.stderr).toBe(0); // informational: wasm still has a GEMM
    const line = lineOf(run.stdout, 'gemm');
    expect(line).toMatch(/^(warn|ok {3}) gemm\s+.*(wasm's own|built-in SGEMM)/);
    expect(line).not.toMatch(/OpenBLAS/);
    expect(run.stdout).toContain(missing); // --verbose: what was tried
    const off = stepcoder(['doctor'], { ...process.env, STEPCODER_NATIVE: '0' });
    expect(lineOf(off.stdout, 'gemm')).toMatch(/wasm's own .*STEPCODER_NATIVE=0/);
  });
});

describe('start-up checks of a run', () => {
  it('print a few lines and stop before any work when the sandbox is unavailable', () => {
    const run = stepcoder(['eval', '--set', 'data.limit=4'], { ...process.env, PATH: bareBin });
    expect(run.status, run.stdout + run.stderr).toBe(2);
    const checks = run.stderr.split('\n').filter((l) => l.startsWith('[stepcoder/check]'));
    expect(checks.length).toBeGreaterThanOrEqual(3);
    expect(checks.length).toBeLessThanOrEqual(6);
    expect(run.stderr).toMatch(/^stepcoder: cannot start: bubblewrap: namespaces unavailable/m);
    expect(run.stderr).toContain("sandbox: 'rlimits'");
    expect(run.stderr).not.toMatch(/\n\s+at /); // a message, not a stack
    expect(run.stderr).not.toMatch(/backend:/); // no backend, model or dataset was started
  });
});
