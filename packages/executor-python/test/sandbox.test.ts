import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExecutionRequest } from '@stepcoder/core';
import { registry } from '@stepcoder/core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createPythonExecutor } from '../src/index.js';
import { PYTHON } from './python-path.js';

// Issue 13, items 1-2: namespaces are the default on Linux. CI installs bubblewrap, so this suite
// insists on them there; set STEPCODER_ALLOW_NO_NAMESPACES=1 on a host that cannot create them.
const linux = process.platform === 'linux';
const allowFallback = process.env.STEPCODER_ALLOW_NO_NAMESPACES === '1';

const executor = createPythonExecutor({
  pythonPath: PYTHON,
  poolSize: 4,
  limits: { timeoutMs: 5000, totalTimeoutMs: 10000 },
});
let level: string | undefined;

beforeAll(async () => {
  await executor.warm();
  const plan = await executor.sandbox();
  level = plan.level;
  if (linux && !allowFallback && plan.level !== 'namespaces') {
    throw new Error(`expected namespace isolation on Linux, got '${plan.level}': ${plan.fallback}`);
  }
});
afterAll(() => executor.dispose());

const healthy: ExecutionRequest = {
  program: 'import time\ndef f(x):\n    time.sleep(0.2)\n    return x * 2\n',
  tests: { kind: 'call', fnName: 'f', inputs: [[1], [2]], outputs: [2, 4] },
};
afterEach(async () => {
  const r = await executor.run(healthy);
  expect(r.outcome, r.message).toBe('pass');
});

const printed = (program: string): ExecutionRequest => ({
  program,
  tests: { kind: 'stdio', cases: [{ input: '', output: '' }] },
});
const stdoutOf = async (program: string): Promise<string> => {
  const r = await executor.run(printed(program));
  expect(r.outcome).not.toBe('infra_error');
  return r.tests[0]!.stdout!.trim();
};

describe.runIf(linux)('namespaces (the default on Linux)', () => {
  it('every result says which sandbox produced it', async () => {
    const r = await executor.run(healthy);
    expect(r.sandbox).toBe(level);
    expect(r.queueMs).toBeGreaterThanOrEqual(0);
  });

  it('item 1: a file planted outside the sandbox cannot be read', async () => {
    const secret = randomBytes(8).toString('hex');
    const name = randomBytes(8).toString('hex');
    const outside = [join(tmpdir(), `stepcoder-planted-${name}`), join(process.cwd(), `planted-${name}.txt`)];
    for (const path of outside) writeFileSync(path, secret);
    try {
      const program = [
        'import os',
        `for p in ${JSON.stringify([...outside, '/etc/shadow', '/root/.bashrc'])}:`,
        '    try:',
        '        print(p, open(p).read())',
        '    except OSError as e:',
        '        print(p, type(e).__name__)',
      ].join('\n');
      const out = await stdoutOf(program);
      expect(out).not.toContain(secret);
      if (level === 'namespaces') expect(out.split('\n').every((l) => l.endsWith('Error'))).toBe(true);
    } finally {
      for (const path of outside) rmSync(path, { force: true });
    }
  });

  it('item 1: a port listening on 127.0.0.1 cannot be reached', async () => {
    let connections = 0;
    const server: Server = createServer((socket) => {
      connections++;
      socket.destroy();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    try {
      const program = [
        'import socket',
        'try:',
        `    socket.create_connection(("127.0.0.1", ${port}), timeout=2).sendall(b"payload")`,
        '    print("connected")',
        'except OSError as e:',
        '    print("refused")',
      ].join('\n');
      const out = await stdoutOf(program);
      if (level === 'namespaces') {
        expect(out).toBe('refused');
        expect(connections).toBe(0);
      }
    } finally {
      server.close();
    }
  });

  it('item 1: nothing is left behind in /tmp, /dev/shm or the temp dir', async () => {
    const tag = `left-${randomBytes(6).toString('hex')}`;
    const leave = [
      'import os, tempfile',
      `for d in ["/tmp", "/dev/shm", tempfile.gettempdir(), os.getcwd()]:`,
      '    try:',
      `        open(os.path.join(d, "${tag}"), "w").write("x")`,
      '    except OSError:',
      '        pass',
    ].join('\n');
    await stdoutOf(leave);
    // Every worker of the pool, not only the one that ran the program: nothing carries over.
    const look = [
      'import os',
      'found = []',
      'for root in ["/tmp", "/dev/shm"]:',
      '    for dirpath, dirs, files in os.walk(root):',
      `        found += [f for f in files if f == "${tag}"]`,
      'print(len(found))',
    ].join('\n');
    const counts = await Promise.all(Array.from({ length: 8 }, () => stdoutOf(look)));
    expect(counts).toEqual(Array(8).fill('0'));
    expect(existsSync(join('/tmp', tag))).toBe(false);
    expect(existsSync(join('/dev/shm', tag))).toBe(false);
    expect(readdirSync(tmpdir()).filter((n) => n === tag)).toEqual([]);
  });

  it('item 2: a sibling-killer beside healthy runs kills nothing but itself', async () => {
    const killer = [
      'import os, signal',
      'def f(x):',
      '    for _ in range(20):',
      '        try:',
      '            os.kill(-1, signal.SIGKILL)',
      '        except OSError:',
      '            pass',
      '        for pid in range(1, 2000):',
      '            if pid != os.getpid():',
      '                try:',
      '                    os.kill(pid, signal.SIGKILL)',
      '                except OSError:',
      '                    pass',
      '    return 0',
    ].join('\n');
    const slow: ExecutionRequest = {
      program: 'import time\ndef f(x):\n    time.sleep(1.0)\n    return x\n',
      tests: { kind: 'call', fnName: 'f', inputs: [[1], [2]], outputs: [1, 2] },
    };
    const runs = await Promise.all([
      executor.run(slow),
      executor.run({ program: killer, tests: { kind: 'call', fnName: 'f', inputs: [[1]], outputs: [1] } }),
      executor.run(slow),
      executor.run(slow),
    ]);
    for (const i of [0, 2, 3]) expect(runs[i]!.outcome, runs[i]!.message).toBe('pass');
    expect(runs[1]!.outcome).not.toBe('pass');
  });

  it('a 4x oversubscribed queue of correct programs has no timeouts (queue time is not run time)', async () => {
    const quick: ExecutionRequest = {
      program: 'import time\ndef f(x):\n    time.sleep(0.15)\n    return x\n',
      tests: { kind: 'call', fnName: 'f', inputs: [[1]], outputs: [1] },
      limits: { timeoutMs: 1000, totalTimeoutMs: 1000 },
    };
    const runs = await Promise.all(Array.from({ length: 16 }, () => executor.run(quick)));
    expect(runs.map((r) => r.outcome)).toEqual(Array(16).fill('pass'));
    expect(Math.max(...runs.map((r) => r.queueMs ?? 0))).toBeGreaterThan(100);
  });
});

describe('fallback', () => {
  it("sandbox 'rlimits' says so in every result", async () => {
    const plain = createPythonExecutor({ pythonPath: PYTHON, poolSize: 1, sandbox: 'rlimits' });
    try {
      expect((await plain.run(healthy)).sandbox).toBe('rlimits');
    } finally {
      await plain.dispose();
    }
  });

  it("'auto' without a working bwrap falls back to rlimits; 'namespaces' then refuses to start", async () => {
    const auto = createPythonExecutor({
      pythonPath: PYTHON,
      poolSize: 1,
      sandbox: 'auto',
      bwrapPath: '/nonexistent/bwrap',
    });
    const strict = createPythonExecutor({
      pythonPath: PYTHON,
      poolSize: 1,
      sandbox: 'namespaces',
      bwrapPath: '/nonexistent/bwrap',
    });
    try {
      const r = await auto.run(healthy);
      expect(r.outcome).toBe('pass');
      expect(r.sandbox).toBe('rlimits');
      expect((await auto.sandbox()).fallback).toContain('/nonexistent/bwrap');
      await expect(strict.run(healthy)).rejects.toThrow(/namespaces' is unavailable/);
    } finally {
      await auto.dispose();
      await strict.dispose();
    }
  });
});

describe.runIf(linux)('default options without bubblewrap (issue 22)', () => {
  it("refuse at creation, naming sandbox: 'rlimits', when bwrap is not on PATH", async () => {
    // A PATH with python3 and nothing else: the registry's factory must refuse before any worker.
    const bin = mkdtempSync(join(tmpdir(), 'stepcoder-nobwrap-'));
    const python = execFileSync(PYTHON, ['-c', 'import sys; print(sys.executable)'], {
      encoding: 'utf8',
    }).trim();
    symlinkSync(python, join(bin, 'python3'));
    const saved = process.env.PATH;
    process.env.PATH = bin;
    try {
      const err = await registry.create('executor', 'python', {}).then(
        () => undefined,
        (e: unknown) => e as Error & { code?: string },
      );
      expect(err?.code).toBe('EXECUTOR_INFRA');
      expect(err?.message).toMatch(/namespaces' is unavailable: bubblewrap \('bwrap'\) is not on PATH/);
      expect(err?.message).toContain("sandbox: 'rlimits'");
      expect(err?.message).toContain('apt-get install bubblewrap');
      // Opting out explicitly works on the same PATH.
      const plain = await registry.create('executor', 'python', { sandbox: 'rlimits', poolSize: 1 });
      try {
        expect((await plain.run(healthy)).sandbox).toBe('rlimits');
      } finally {
        await plain.dispose();
      }
    } finally {
      process.env.PATH = saved;
      rmSync(bin, { recursive: true, force: true });
    }
  });
});
