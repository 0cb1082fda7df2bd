/**
 * Soak test of both executors (issue 13): thousands of mixed healthy and hostile runs at
 * concurrency 4 per executor. Prints, per executor: lost samples (infra_error), escapes (a hostile
 * program that passed, read a planted file, reached a host port or left a file on the host), wrong
 * verdicts on healthy programs, the parent's RSS (start / peak / end) and processes left behind
 * after dispose. Not part of CI:
 *
 *     pnpm soak                      # 2000 runs per executor
 *     SOAK_RUNS=500 pnpm soak
 *
 * (A .mts file: the repository root is not an ES module package.)
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExecutionRequest, ExecutionResult, Executor } from '../packages/core/src/index.js';
import { createJsExecutor } from '../packages/executor-js/src/index.js';
import { createPythonExecutor } from '../packages/executor-python/src/index.js';
import { humanEvalRequest, loadHumanEval } from '../packages/executor-python/test/humaneval.js';

// biome-ignore lint/suspicious/noUndeclaredEnvVars: a script knob, documented above
const RUNS = Number(process.env.SOAK_RUNS ?? 2000);
const CONCURRENCY = 4;
const tag = `stepcoder-soak-${randomBytes(6).toString('hex')}`;
const secret = randomBytes(12).toString('hex');
const planted = join(tmpdir(), `${tag}-planted`);

interface Case {
  name: string;
  hostile: boolean;
  request: ExecutionRequest;
}

const call = (inputs: unknown[][], outputs: unknown[]): ExecutionRequest['tests'] => ({
  kind: 'call',
  fnName: 'f',
  inputs,
  outputs,
});
const stdio = (output: string): ExecutionRequest['tests'] => ({
  kind: 'stdio',
  cases: [{ input: '', output }],
});

function pythonCases(port: number): Case[] {
  const healthy: Case[] = loadHumanEval()
    .slice(0, 40)
    .map((p) => ({ name: `humaneval ${p.task_id}`, hostile: false, request: humanEvalRequest(p) }));
  healthy.push(
    {
      name: 'call',
      hostile: false,
      request: {
        program: 'def f(a, b):\n    return a + b\n',
        tests: call(
          [
            [1, 2],
            [3, 4],
          ],
          [3, 7],
        ),
      },
    },
    { name: 'stdio', hostile: false, request: { program: 'print(sum(range(10)))\n', tests: stdio('45') } },
  );
  const wrong = 'def f(x):\n    return 0\n';
  const hostile: Array<[string, string, ExecutionRequest['tests']]> = [
    [
      'frame-globals exec patch',
      `import sys\nsys._getframe(1).f_globals["exec"] = lambda *a, **k: None\n${wrong}`,
      { kind: 'assert', cases: ['assert f(1) == 1'] },
    ],
    [
      'eq-always object',
      'class E:\n    def __eq__(s, o):\n        return True\ndef f(x):\n    return E()\n',
      { kind: 'assert', cases: ['assert f(1) == 1'] },
    ],
    [
      'forged records on every fd',
      `import os\nfor fd in range(3, 256):\n    try:\n        os.write(fd, b'{"t":"test","i":0}\\n{"t":"done"}\\n')\n    except OSError:\n        pass\n${wrong}`,
      { kind: 'assert', cases: ['assert f(1) == 1'] },
    ],
    [
      'forged fatal',
      `import os\nfor fd in range(3, 256):\n    try:\n        os.write(fd, b'{"t":"fatal","msg":"x"}\\n')\n    except OSError:\n        pass\n${wrong}`,
      call([[1]], [1]),
    ],
    [
      'sibling killer',
      'import os, signal\nfor p in [-1] + list(range(1, 3000)):\n    try:\n        os.kill(p, signal.SIGKILL) if p != os.getpid() else None\n    except OSError:\n        pass\ndef f(x):\n    return 0\n',
      call([[1]], [1]),
    ],
    ['read planted file', `print(open(${JSON.stringify(planted)}).read())\n`, stdio(secret)],
    ['read /etc/shadow', 'print(len(open("/etc/shadow").read()) > 0)\n', stdio('True')],
    [
      'reach host port',
      `import socket\nsocket.create_connection(("127.0.0.1", ${port}), timeout=1).sendall(b"x")\nprint("connected")\n`,
      stdio('connected'),
    ],
    [
      'leave files',
      `import os\nfor d in ["/tmp", "/dev/shm", "."]:\n    try:\n        open(os.path.join(d, "${tag}"), "w").write("x")\n    except OSError:\n        pass\nprint("left")\n`,
      stdio('nope'),
    ],
    ['infinite loop', 'def f(x):\n    while True:\n        pass\n', call([[1]], [1])],
    [
      'memory bomb',
      'def f(x):\n    a = []\n    while True:\n        a.append(bytearray(16 << 20))\n',
      call([[1]], [1]),
    ],
    [
      'fork bomb',
      'import os\ndef f(x):\n    for _ in range(50):\n        try:\n            os.fork()\n        except OSError:\n            pass\n    return 0\n',
      call([[1]], [1]),
    ],
    ['os._exit(0)', 'import os\nos._exit(0)\n', call([[1]], [1])],
    ['40 MB return', 'def f(x):\n    return "x" * (40 << 20)\n', call([[1]], ['x'])],
    ['output flood', 'while True:\n    print("y" * 1000)\n', stdio('y')],
  ];
  return [
    ...healthy,
    ...hostile.map(([name, program, tests]) => ({ name, hostile: true, request: { program, tests } })),
  ];
}

function jsCases(): Case[] {
  const healthy: Case[] = [
    {
      name: 'call',
      hostile: false,
      request: {
        program: 'function f(a, b) { return a + b; }',
        tests: call(
          [
            [1, 2],
            [3, 4],
          ],
          [3, 7],
        ),
      },
    },
    {
      name: 'stdio',
      hostile: false,
      request: { program: 'console.log([1,2,3].reduce((a, b) => a + b));', tests: stdio('6') },
    },
    {
      name: 'assert',
      hostile: false,
      request: {
        program: 'function f(x) { return x * 2; }',
        tests: { kind: 'assert', cases: ['assert.strictEqual(f(2), 4)'] },
      },
    },
  ];
  const hostile: Array<[string, string, ExecutionRequest['tests']]> = [
    ['infinite loop', 'function f() { while (true) {} }', call([[1]], [1])],
    [
      'wasm 1 GiB',
      'function f() { const m = new WebAssembly.Memory({ initial: 16384 }); new Uint8Array(m.buffer).fill(1); return 1; }',
      call([[1]], [1]),
    ],
    [
      'heap bomb',
      'function f() { const a = []; for (;;) a.push(new Array(1e5).fill(1)); }',
      call([[1]], [1]),
    ],
    ['process.exit', 'process.exit(0); function f() { return 0; }', call([[1]], [1])],
    ['patched JSON', 'JSON.stringify = () => "1"; function f() { return 0; }', call([[1]], [1])],
    [
      'always-equal',
      'function f() { return { valueOf() { return 1; }, toJSON() { return 1; } }; }',
      { kind: 'assert', cases: ['assert.strictEqual(f(), 1)'] },
    ],
  ];
  return [
    ...healthy,
    ...hostile.map(([name, program, tests]) => ({ name, hostile: true, request: { program, tests } })),
  ];
}

/** pids of this process's descendants. */
function descendants(): number[] {
  const parent = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      parent.set(Number(name), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // gone
    }
  }
  const out: number[] = [];
  const walk = (pid: number) => {
    for (const [child, ppid] of parent) {
      if (ppid === pid) {
        out.push(child);
        walk(child);
      }
    }
  };
  walk(process.pid);
  // tsx's own esbuild service is not a leftover of the executors.
  return out.filter((pid) => {
    try {
      return !readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('esbuild');
    } catch {
      return false;
    }
  });
}

interface Tally {
  runs: number;
  lost: number;
  escapes: string[];
  wrongHealthy: string[];
  rss: { start: number; peak: number; end: number };
  leftover: number;
  seconds: number;
  sandbox: string;
}

async function soak(
  name: string,
  executor: Executor,
  cases: Case[],
  connections: () => number,
): Promise<Tally> {
  const mb = () => Math.round(process.memoryUsage().rss / 2 ** 20);
  const tally: Tally = {
    runs: 0,
    lost: 0,
    escapes: [],
    wrongHealthy: [],
    rss: { start: mb(), peak: mb(), end: 0 },
    leftover: 0,
    seconds: 0,
    sandbox: '?',
  };
  const sampler = setInterval(() => {
    tally.rss.peak = Math.max(tally.rss.peak, mb());
  }, 100);
  const t0 = performance.now();
  let next = 0;
  // Hostile programs are 1 in 4, spread evenly; the rest cycle through the healthy ones.
  const healthy = cases.filter((c) => !c.hostile);
  const hostile = cases.filter((c) => c.hostile);
  const pick = (i: number) =>
    i % 4 === 3 ? hostile[(i >> 2) % hostile.length]! : healthy[i % healthy.length]!;
  const before = connections();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < RUNS) {
        const c = pick(next++);
        let r: ExecutionResult;
        try {
          r = await executor.run(c.request);
        } catch (err) {
          tally.lost++;
          tally.wrongHealthy.push(`${c.name}: threw ${(err as Error).message}`);
          continue;
        }
        tally.runs++;
        tally.sandbox = r.sandbox ?? '?';
        if (r.outcome === 'infra_error') tally.lost++;
        if (c.hostile && r.outcome === 'pass') tally.escapes.push(`${c.name} passed`);
        if (!c.hostile && r.outcome !== 'pass')
          tally.wrongHealthy.push(`${c.name}: ${r.outcome} ${r.message ?? ''}`);
        if (c.hostile && r.stdout.includes(secret)) tally.escapes.push(`${c.name} read the planted file`);
        if (tally.runs % 500 === 0) console.error(`${name}: ${tally.runs}/${RUNS}`);
      }
    }),
  );
  tally.seconds = (performance.now() - t0) / 1000;
  if (connections() > before)
    tally.escapes.push(`${connections() - before} connections reached the host port`);
  for (const left of ['/tmp', '/dev/shm', tmpdir()].map((d) => join(d, tag))) {
    if (existsSync(left)) {
      tally.escapes.push(`a file was left at ${left}`);
      rmSync(left, { force: true });
    }
  }
  await executor.dispose();
  clearInterval(sampler);
  await new Promise((resolve) => setTimeout(resolve, 1500));
  tally.leftover = descendants().length;
  tally.rss.end = mb();
  return tally;
}

async function main(): Promise<void> {
  writeFileSync(planted, secret);
  let connections = 0;
  const server = createServer((socket) => {
    connections++;
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  // Generous for the healthy programs on a loaded machine; hostile hangs cost this much each.
  const limits = { timeoutMs: 4000, totalTimeoutMs: 8000, memoryMb: 256 };
  const results: Array<[string, Tally]> = [];
  try {
    results.push([
      'python',
      await soak(
        'python',
        createPythonExecutor({ poolSize: CONCURRENCY, limits }),
        pythonCases(port),
        () => connections,
      ),
    ]);
    results.push([
      'js',
      await soak(
        'js',
        createJsExecutor({ poolSize: CONCURRENCY, limits: { ...limits, memoryMb: 64 } }),
        jsCases(),
        () => connections,
      ),
    ]);
  } finally {
    server.close();
    rmSync(planted, { force: true });
  }
  console.log(`\nSoak: ${RUNS} runs per executor (1 in 4 hostile), concurrency ${CONCURRENCY}\n`);
  console.log(
    '| executor | sandbox | runs | s | lost samples | escapes | wrong verdicts on healthy | parent RSS start/peak/end MiB | leftover processes |',
  );
  console.log('|---|---|---:|---:|---:|---:|---:|---|---:|');
  for (const [name, t] of results) {
    console.log(
      `| ${name} | ${t.sandbox} | ${t.runs} | ${t.seconds.toFixed(0)} | ${t.lost} | ${t.escapes.length} | ${t.wrongHealthy.length} | ${t.rss.start}/${t.rss.peak}/${t.rss.end} | ${t.leftover} |`,
    );
  }
  for (const [name, t] of results) {
    const seen = new Map<string, number>();
    for (const e of [...t.escapes, ...t.wrongHealthy])
      seen.set(e.slice(0, 160), (seen.get(e.slice(0, 160)) ?? 0) + 1);
    for (const [e, n] of seen) console.log(`${name}: ${n}x ${e}`);
  }
  const bad = results.some(([, t]) => t.lost || t.escapes.length || t.wrongHealthy.length || t.leftover);
  process.exitCode = bad ? 1 : 0;
}

await main();
