import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Running, startServer } from './helpers.js';

const CLIENT_DIR = fileURLToPath(new URL('../../../examples/python-client/', import.meta.url));
const KEY = 'python-client-key-0123456789';

describe('examples/python-client against a live server', () => {
  let s: Running;
  let busy: Running;
  beforeAll(async () => {
    s = await startServer({ apiKeys: [KEY], skipWarmup: false });
    busy = await startServer({ apiKeys: [KEY], maxConcurrency: 1, maxQueue: 0 });
    await s.server.warmup();
  });
  afterAll(async () => {
    await Promise.all([s.server.close(), busy.server.close()]);
  });

  it('passes its unittest suite (client, backpressure, TRL and veRL reward functions)', async () => {
    const child = spawn('python3', ['-m', 'unittest', '-v', 'test_client'], {
      cwd: CLIENT_DIR,
      env: {
        ...process.env,
        STEPCODER_URL: s.url,
        STEPCODER_BUSY_URL: busy.url,
        STEPCODER_API_KEY: KEY,
        PYTHONDONTWRITEBYTECODE: '1',
      },
    });
    let output = '';
    child.stdout.on('data', (d) => {
      output += d;
    });
    child.stderr.on('data', (d) => {
      output += d;
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(output).toMatch(/Ran \d+ tests/);
    expect(output).not.toContain('skipped');
    expect(output, output).toContain('OK');
    expect(code).toBe(0);
  }, 60_000);
});
