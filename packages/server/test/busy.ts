/** A JavaScript request that keeps the CPU busy for `ms` and then passes. */
export function busyRequest(ms: number) {
  return {
    program: `const t = Date.now(); while (Date.now() - t < ${ms}) {} console.log('done');`,
    language: 'javascript',
    tests: { kind: 'stdio', cases: [{ input: '', output: 'done\n' }] },
    limits: { timeoutMs: 20_000, totalTimeoutMs: 20_000 },
  };
}

/** Poll the Prometheus text until `metric` reaches `value` (the server is in the state we want). */
export async function waitForMetric(url: string, metric: string, value: number, headers = {}): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    const text = await (await fetch(`${url}/metrics`, { headers })).text();
    const line = text.split('\n').find((l) => l.startsWith(`${metric} `));
    if (line && Number(line.split(' ')[1]) >= value) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`${metric} never reached ${value}`);
}
