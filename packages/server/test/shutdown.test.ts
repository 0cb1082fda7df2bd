import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { busyRequest, waitForMetric } from './busy.js';

const CHILD = fileURLToPath(new URL('./fixtures/serve-child.ts', import.meta.url));

describe('SIGTERM', () => {
  it('lets in-flight requests finish, refuses new ones, disposes executors and exits 0', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.setEncoding('utf8');
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (chunk: string) => {
        out += chunk;
        const m = /\{"url":"([^"]+)"\}/.exec(out);
        if (m) resolve(m[1]!);
      });
      child.once('exit', (code) => reject(new Error(`server exited early (${code}): ${out}`)));
    });
    const post = (body: unknown) =>
      fetch(`${url}/v1/execute`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const inFlight = [post(busyRequest(1500)), post(busyRequest(1500))];
    await waitForMetric(url, 'stepcoder_in_flight_requests', 2);
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    // Once the signal is handled, readiness is refused (503 or a closed port); only then is a
    // new request sure to arrive after shutdown began, however loaded the machine is.
    for (;;) {
      const ready = await fetch(`${url}/readyz`).then(
        (res) => res.status,
        () => 'refused',
      );
      if (ready !== 200) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const late = await post(busyRequest(1)).then(
      (res) => res.status,
      () => 'refused',
    );
    expect([503, 'refused']).toContain(late);
    for (const res of await Promise.all(inFlight)) {
      expect(res.status).toBe(200);
      expect(((await res.json()) as { outcome: string }).outcome).toBe('pass');
    }
    const [code] = await exited;
    expect(code).toBe(0);
    expect(out).toContain('"msg":"shut down"');
  }, 30_000);
});
