import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunCodeResponse, toRunCodeResponse } from '../src/index.js';
import { type Json, type Running, startServer } from './helpers.js';

/**
 * The request veRL sends (verl/utils/reward_score/sandbox_fusion/utils.py, `call_sandbox_api`):
 * every field is always present, `stdin` may be None, `files` and `fetch_files` are empty.
 */
function verlPayload(code: string, stdin: string | null, language = 'python') {
  return {
    compile_timeout: 10,
    run_timeout: 10,
    code,
    stdin,
    memory_limit_MB: 1024,
    language,
    files: {},
    fetch_files: [],
  };
}

/** veRL's reading of a response (`_process_single_case`): its status names and result codes. */
function verlVerdict(
  resp: RunCodeResponse,
  expected: string | null,
): { status: string; result: boolean | number } {
  if (resp.status === 'SandboxError') return { status: 'sandbox_error', result: -1 };
  const run = resp.run_result;
  if (resp.status === 'Failed') {
    if (run?.status === 'TimeLimitExceeded') return { status: 'timeout', result: -3 };
    if (run?.status === 'Error' || (run?.status === 'Finished' && run.return_code !== 0)) {
      return { status: 'runtime_error', result: -2 };
    }
    return { status: 'unknown_failure', result: -1 };
  }
  if (resp.status === 'Success' && run?.status === 'Finished') {
    const ok =
      expected === null || String(run.stdout ?? '').replace(/\n+$/, '') === expected.replace(/\n+$/, '');
    return { status: ok ? 'success' : 'wrong_answer', result: ok };
  }
  return { status: 'unexpected', result: -1 };
}

/**
 * A call-based problem as veRL wraps it for the sandbox: the function under test, then a driver
 * that reads one JSON argument per stdin line, calls the function and prints the JSON result.
 */
const FN_WRAPPED = `
import sys, json
def add(a, b):
    return a + b
def _run():
    args = [json.loads(line) for line in sys.stdin.read().split("\\n") if line.strip()]
    print(json.dumps(add(*args)))
_run()
`;

describe('SandboxFusion /run_code as veRL calls it', () => {
  let s: Running;
  const headers = { accept: 'application/json' };
  beforeAll(async () => {
    s = await startServer();
  });
  afterAll(() => s.server.close());

  it('answers with every field of RunCodeResponse and CommandRunResult', async () => {
    const res = await s.post('/run_code', verlPayload('print("Hello, world!")', null), headers);
    expect(res.status).toBe(200);
    expect(Object.keys(res.json).sort()).toEqual(
      ['compile_result', 'executor_pod_name', 'files', 'message', 'run_result', 'status'].sort(),
    );
    expect(res.json).toMatchObject({ status: 'Success', message: '', compile_result: null, files: {} });
    expect(Object.keys(res.json.run_result).sort()).toEqual(
      ['execution_time', 'return_code', 'status', 'stderr', 'stdout'].sort(),
    );
    expect(res.json.run_result).toMatchObject({
      status: 'Finished',
      return_code: 0,
      stdout: 'Hello, world!\n',
    });
    expect(typeof res.json.run_result.execution_time).toBe('number');
  });

  it.each([
    [
      'stdin echo',
      'print(sum(map(int, input().split())))',
      '3 4\n',
      '7',
      { status: 'success', result: true },
    ],
    ['wrong output', 'print(1)', '', '2', { status: 'wrong_answer', result: false }],
    ['fn_name wrapper', FN_WRAPPED, '1\n2\n', '3', { status: 'success', result: true }],
    ['exception', 'raise ValueError("boom")', '', '', { status: 'runtime_error', result: -2 }],
    ['syntax error', 'def f(:\n  pass', '', '', { status: 'runtime_error', result: -2 }],
    ['endless loop', 'while True:\n    pass', '', '', { status: 'timeout', result: -3 }],
  ])('python %s', async (_name, code, stdin, expected, verdict) => {
    const payload = { ...verlPayload(code, stdin), run_timeout: 1 };
    const res = await s.post('/run_code', payload, headers);
    expect(res.status).toBe(200);
    expect(verlVerdict(res.json, expected)).toEqual(verdict);
  });

  it('reports the exit status and keeps stderr', async () => {
    const res = await s.post(
      '/run_code',
      verlPayload('import sys\nsys.stderr.write("bad\\n")\nsys.exit(3)', null),
      headers,
    );
    expect(res.json.status).toBe('Failed');
    expect(res.json.run_result.return_code).toBe(3);
    expect(res.json.run_result.stderr).toContain('bad');
    const clean = await s.post('/run_code', verlPayload('print(1)\nexit(0)', null), headers);
    expect(clean.json).toMatchObject({ status: 'Success', run_result: { return_code: 0, stdout: '1\n' } });
  });

  it('runs nodejs and typescript', async () => {
    const js = await s.post(
      '/run_code',
      verlPayload(
        'const s = require("fs").readFileSync(0, "utf8"); console.log(s.trim().toUpperCase())',
        'abc',
        'nodejs',
      ),
      headers,
    );
    expect(verlVerdict(js.json, 'ABC')).toEqual({ status: 'success', result: true });
    const ts = await s.post(
      '/run_code',
      verlPayload('const n: number = 2;\nconsole.log(n * 21)', null, 'typescript'),
    );
    expect(ts.json.run_result.stdout).toBe('42\n');
  });

  it('gives the program its base64 files in its working directory (python)', async () => {
    const res = await s.post('/run_code', {
      code: 'print(open("data/in.txt").read().strip()[::-1])',
      language: 'python',
      files: { 'data/in.txt': Buffer.from('stressed\n').toString('base64') },
    });
    expect(res.json.run_result.stdout).toBe('desserts\n');
    const outside = await s.post('/run_code', {
      code: 'print(1)',
      language: 'python',
      files: { '../x': Buffer.from('x').toString('base64') },
    });
    expect(outside.status).toBe(400);
  });

  it('uses SandboxFusion defaults for a minimal request (code + language only)', async () => {
    const res = await s.post('/run_code', { code: 'print(2 ** 10)', language: 'python' });
    expect(res.json).toMatchObject({ status: 'Success', run_result: { stdout: '1024\n' } });
  });
});

/** A correct program with a real 2 MB answer: 190,000 lines of "0123456789" (2,090,000 bytes). */
const LINES = 190_000;
const ANSWER = '0123456789\n'.repeat(LINES);
const BIG_PY = `import sys\nsys.stdout.write("0123456789\\n" * ${LINES})\n`;
const BIG_JS = `for (let i = 0; i < ${LINES}; i++) console.log("0123456789");`;

describe('/run_code output limit (issue 22: no silent truncation)', () => {
  let s: Running;
  let roomy: Running;
  beforeAll(async () => {
    s = await startServer();
    roomy = await startServer({ runCodeMaxOutputBytes: 4 * 1024 * 1024 });
  });
  afterAll(() => Promise.all([s.server.close(), roomy.server.close()]));

  it("keeps SandboxFusion's 1 MiB by default", async () => {
    expect(s.server.options.runCodeMaxOutputBytes).toBe(1024 * 1024);
    // Exactly 1 MiB of stdout is complete, and a success.
    const code = `import sys\nsys.stdout.write("x" * ${1024 * 1024})\n`;
    const res = await s.post('/run_code', verlPayload(code, null));
    expect(res.json.status).toBe('Success');
    expect(res.json.run_result.stdout).toHaveLength(1024 * 1024);
  });

  it.each([
    ['python', BIG_PY],
    ['nodejs', BIG_JS],
  ])(
    'a 2 MB %s stdout over the default cap is a SandboxError naming the truncation, never a wrong answer',
    async (language, code) => {
      const res = await s.post('/run_code', verlPayload(code, null, language));
      expect(res.status).toBe(200);
      expect(res.json.status).toBe('SandboxError');
      expect(res.json.message).toMatch(/output truncated: the program's stdout passed 1048576 bytes/);
      expect(res.json.run_result).toMatchObject({ status: 'Error', return_code: null });
      const stdout: string = res.json.run_result.stdout;
      expect(Buffer.byteLength(stdout)).toBeLessThanOrEqual(1024 * 1024);
      expect(Buffer.byteLength(stdout)).toBeGreaterThan(1024 * 1024 - 16);
      expect(ANSWER.startsWith(stdout)).toBe(true);
      expect(verlVerdict(res.json, ANSWER)).toEqual({ status: 'sandbox_error', result: -1 });
    },
  );

  it.each([
    ['python', BIG_PY],
    ['nodejs', BIG_JS],
  ])('the same %s program passes under a higher runCodeMaxOutputBytes', async (language, code) => {
    const res = await roomy.post('/run_code', verlPayload(code, null, language));
    expect(res.json).toMatchObject({ status: 'Success', message: '', run_result: { status: 'Finished' } });
    expect(res.json.run_result.stdout).toBe(ANSWER);
    expect(verlVerdict(res.json, ANSWER)).toEqual({ status: 'success', result: true });
  });

  it('a cut stderr is flagged too', async () => {
    const code = 'import os\nos.write(2, b"e" * 2_000_000)\nprint("ok")\n';
    const res = await s.post('/run_code', verlPayload(code, null));
    expect(res.json.status).toBe('SandboxError');
    expect(res.json.message).toMatch(/program's stderr passed/);
    expect(res.json.run_result.stdout).toBe('ok\n');
  });

  it('a cut run that also timed out stays a timeout, with the truncation in the message', () => {
    // The bundled executors return no output for a test that timed out; another executor may.
    const resp = toRunCodeResponse(
      {
        outcome: 'timeout',
        tests: [{ index: 0, outcome: 'timeout', durationMs: 1000, stdout: 'spam\n' }],
        passed: 0,
        total: 1,
        durationMs: 1000,
        stdout: 'spam\n',
        stderr: '',
        truncated: true,
        truncatedStreams: { stdout: true, stderr: false },
      },
      1024,
    );
    expect(resp).toMatchObject({ status: 'Failed', run_result: { status: 'TimeLimitExceeded' } });
    expect(resp.message).toMatch(/output truncated: the program's stdout passed 1024 bytes/);
  });
});

describe('/v1/execute and /v1/score output limit', () => {
  let s: Running;
  let roomy: Running;
  const tests = { kind: 'stdio', cases: [{ input: '', output: ANSWER }] };
  beforeAll(async () => {
    s = await startServer();
    roomy = await startServer({ maxLimits: { maxOutputBytes: 4 * 1024 * 1024 } });
  });
  afterAll(() => Promise.all([s.server.close(), roomy.server.close()]));

  it('flags a cut stdout per stream and does not judge it', async () => {
    const res = await s.post('/v1/execute', { program: BIG_PY, tests });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({
      outcome: 'runtime_error',
      reason: 'output_limit',
      truncated: true,
      truncatedStreams: { stdout: true, stderr: false },
    });
    expect(res.json.tests[0]).toMatchObject({
      outcome: 'runtime_error',
      reason: 'output_limit',
      truncated: true,
      truncatedStreams: { stdout: true, stderr: false },
    });
    // Asking for more than the server's ceiling (1 MiB) is clamped: still cut, still flagged.
    const clamped = await s.post('/v1/execute', {
      program: BIG_PY,
      tests,
      limits: { maxOutputBytes: 4 << 20 },
    });
    expect(clamped.json).toMatchObject({ outcome: 'runtime_error', reason: 'output_limit', truncated: true });
    const scored = await s.post('/v1/score', { items: [{ tests, language: 'python', completion: BIG_PY }] });
    expect(scored.json.results[0]).toMatchObject({
      ok: true,
      outcome: 'runtime_error',
      reason: 'output_limit',
      truncated: true,
      reward: -0.6,
    });
  });

  it('passes a correct 2 MB answer when the ceiling and the request allow it', async () => {
    const res = await roomy.post('/v1/execute', {
      program: BIG_PY,
      tests,
      limits: { maxOutputBytes: 4 << 20 },
    });
    expect(res.json).toMatchObject({
      outcome: 'pass',
      truncated: false,
      truncatedStreams: { stdout: false, stderr: false },
    });
    expect(res.json.stdout).toBe(ANSWER);
    expect(res.json.reason).toBeUndefined();
  });

  it('documents the truncation fields in the OpenAPI document', async () => {
    const doc = (await (await fetch(`${s.url}/openapi.json`)).json()) as Json;
    const execute = doc.paths['/v1/execute'].post.responses[200].content['application/json'].schema;
    expect(execute.properties.truncatedStreams.properties).toHaveProperty('stdout');
    expect(execute.properties.tests.items.properties).toHaveProperty('truncatedStreams');
    expect(execute.properties.reason.enum).toEqual(['output_limit']);
    const runCode = doc.paths['/run_code'].post.responses[200].content['application/json'].schema;
    expect(runCode.properties.status.description).toMatch(/runCodeMaxOutputBytes/);
  });
});
