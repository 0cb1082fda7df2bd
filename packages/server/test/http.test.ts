import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer } from '../src/index.js';
import { type Json, type Running, startServer } from './helpers.js';

const KEY = 'test-key-0123456789abcdef';
const JS_PROGRAM = {
  program: 'console.log(Number(require("fs").readFileSync(0, "utf8")) * 2)',
  language: 'javascript',
  tests: { kind: 'stdio', cases: [{ input: '21\n', output: '42\n' }] },
};

describe('HTTP contract: auth, validation, limits on a real server', () => {
  let s: Running;
  beforeAll(async () => {
    s = await startServer({ apiKeys: [KEY], bodyLimitBytes: 64 * 1024 });
  });
  afterAll(() => s.server.close());

  it('refuses a missing or wrong key with 401 and accepts the right one', async () => {
    const missing = await s.post('/v1/execute', JS_PROGRAM);
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toBe('Bearer');
    const wrong = await s.post('/v1/execute', JS_PROGRAM, { authorization: `Bearer ${KEY}x` });
    expect(wrong.status).toBe(401);
    expect(wrong.json.error.code).toBe('UNAUTHORIZED');
    const ok = await s.post('/v1/execute', JS_PROGRAM, { authorization: `Bearer ${KEY}` });
    expect(ok.status).toBe(200);
    expect(ok.json.outcome).toBe('pass');
  });

  it('takes the key from ?api_key= on /run_code only (SandboxFusion clients send no headers)', async () => {
    const body = { code: 'console.log("hi")', language: 'nodejs' };
    const viaQuery = await s.post(`/run_code?api_key=${KEY}`, body);
    expect(viaQuery.status).toBe(200);
    expect(viaQuery.json.run_result.stdout).toBe('hi\n');
    expect((await s.post(`/v1/execute?api_key=${KEY}`, JS_PROGRAM)).status).toBe(401);
  });

  it('leaves probes and the API description open', async () => {
    expect((await fetch(`${s.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${s.url}/readyz`)).status).toBe(200);
    const doc = (await (await fetch(`${s.url}/openapi.json`)).json()) as Json;
    expect(doc.openapi).toBe('3.1.0');
    const scoreBody = doc.paths['/v1/score'].post.requestBody.content['application/json'].schema;
    expect(scoreBody.properties.items.items.properties.completion.type).toBe('string');
    expect((await fetch(`${s.url}/metrics`)).status).toBe(401);
  });

  const auth = { authorization: `Bearer ${KEY}` };

  it('answers malformed JSON with 400', async () => {
    const res = await s.post('/v1/execute', '{"program": "x", ', auth);
    expect(res.status).toBe(400);
    expect(res.json.error.message).toMatch(/JSON/i);
  });

  it('answers an invalid body with 400 naming the offending path', async () => {
    const res = await s.post(
      '/v1/execute',
      { ...JS_PROGRAM, tests: { kind: 'stdio', cases: [{ input: 1, output: '' }] } },
      auth,
    );
    expect(res.status).toBe(400);
    expect(res.json.error.issues.map((i: { path: string }) => i.path)).toEqual(['tests.cases[0].input']);
  });

  it('answers an oversize body with 413 before parsing it', async () => {
    const res = await s.post('/v1/execute', { ...JS_PROGRAM, program: 'x'.repeat(100 * 1024) }, auth);
    expect(res.status).toBe(413);
  });

  it('answers an unknown language with 400 on both contracts', async () => {
    const run = await s.post('/run_code', { code: 'int main(){}', language: 'cpp' }, auth);
    expect(run.status).toBe(400);
    expect(run.json.error.message).toContain("'cpp' is not supported");
    const exec = await s.post('/v1/execute', { ...JS_PROGRAM, language: 'cobol' }, auth);
    expect(exec.status).toBe(400);
    expect(exec.json.error.issues[0].path).toBe('language');
  });

  it('fails an item naming an unknown plugin alone, listing what exists', async () => {
    const res = await s.post(
      '/v1/score',
      {
        items: [
          { language: 'javascript', tests: JS_PROGRAM.tests, completion: JS_PROGRAM.program, reward: 'nope' },
          { language: 'javascript', tests: JS_PROGRAM.tests, completion: JS_PROGRAM.program },
        ],
      },
      auth,
    );
    expect(res.status).toBe(200);
    expect(res.json.results[0].ok).toBe(false);
    expect(res.json.results[0].error.code).toBe('UNKNOWN_PLUGIN');
    expect(res.json.results[0].error.message).toContain("'stepcoder'");
    expect(res.json.results[1]).toMatchObject({ index: 1, ok: true, outcome: 'pass', reward: 1 });
  });

  it('counts requests and outcomes in Prometheus text', async () => {
    const text = await (await fetch(`${s.url}/metrics`, { headers: auth })).text();
    expect(text).toMatch(/stepcoder_http_requests_total\{route="\/v1\/execute",status="401"\} [1-9]/);
    expect(text).toMatch(/stepcoder_execution_outcomes_total\{route="\/v1\/execute",outcome="pass"\} [1-9]/);
    expect(text).toContain('stepcoder_queue_depth 0');
    expect(text).toContain('stepcoder_http_request_duration_seconds_bucket');
  });
});

describe('server options', () => {
  it('refuses a non-loopback bind without API keys', () => {
    expect(() => createServer({ host: '0.0.0.0', logLevel: 'silent' })).toThrow(/apiKeys is empty/);
  });

  it('refuses short API keys', () => {
    expect(() => createServer({ apiKeys: ['short'], logLevel: 'silent' })).toThrow(/at least 16/);
  });
});
