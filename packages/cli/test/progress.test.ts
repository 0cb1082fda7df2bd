import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createProgress } from '../src/progress.js';

/** A real writable stream (not a TTY) that keeps each line and when it arrived. */
function collector(): { stream: Writable; lines: Array<{ at: number; text: string }> } {
  const lines: Array<{ at: number; text: string }> = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      for (const text of String(chunk).split('\n').filter(Boolean)) lines.push({ at: Date.now(), text });
      done();
    },
  });
  return { stream, lines };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('progress in logs (not a TTY)', () => {
  it('prints a line at the configured interval with step/total, elapsed, ETA and the key metric', async () => {
    const { stream, lines } = collector();
    const progress = createProgress('sft', 40, { stream, intervalMs: 50 });
    progress.update(10, { loss: 1.234 });
    expect(lines).toHaveLength(1); // the first update prints at once
    // Nothing moves for a while: the timer still prints, about every 50 ms.
    await sleep(280);
    const idle = lines.length - 1;
    expect(idle).toBeGreaterThanOrEqual(3);
    expect(idle).toBeLessThanOrEqual(6);
    for (const { text } of lines) {
      expect(text).toMatch(/^sft 10\/40 \| \d+s elapsed, ETA \d+s \| loss 1\.23$/);
    }
    const gaps = lines.slice(1).map((l, i) => l.at - lines[i]!.at);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(40);
    // Many fast updates: lines follow the clock, not the step count.
    const before = lines.length;
    const started = Date.now();
    for (let step = 11; step < 40; step++) {
      progress.update(step, { loss: 1 });
      await sleep(5);
    }
    const burst = lines.length - before;
    expect(burst).toBeLessThanOrEqual(Math.ceil((Date.now() - started) / 50) + 1);
    expect(burst).toBeGreaterThanOrEqual(1);
    // Completion prints once, then nothing more.
    progress.update(40, { loss: 0.5 });
    expect(lines.at(-1)!.text).toMatch(/^sft 40\/40 \| \d+s elapsed, ETA 0s \| loss 0\.5$/);
    const final = lines.length;
    progress.stop();
    await sleep(120);
    expect(lines.length).toBe(final);
  });

  it('an unknown total reads ?, and the ETA comes from the rate so far (injected clock and timer)', () => {
    const { stream, lines } = collector();
    let now = 0;
    let tick: () => void = () => {};
    const progress = createProgress('train', undefined, {
      stream,
      intervalMs: 15_000,
      now: () => now,
      every: (_ms, fn) => {
        tick = fn;
        return () => {
          tick = () => {};
        };
      },
    });
    now = 15_000;
    tick(); // a heartbeat before the first update
    expect(lines.at(-1)!.text).toBe('train 0/? | 15s elapsed, ETA ?');
    now = 20_000;
    progress.update(2, { reward: 0.25, pass: 0.4 }, 10);
    expect(lines.at(-1)!.text).toBe('train 2/10 | 20s elapsed, ETA 1m20s | reward 0.25, pass 0.4');
    now = 25_000;
    tick(); // 5 s since the last line: not yet
    expect(lines).toHaveLength(2);
    now = 35_000;
    tick();
    expect(lines.at(-1)!.text).toBe('train 2/10 | 35s elapsed, ETA 2m20s | reward 0.25, pass 0.4');
    progress.stop();
  });

  it('quiet prints nothing', async () => {
    const { stream, lines } = collector();
    const progress = createProgress('eval', 3, { stream, intervalMs: 10, quiet: true });
    progress.update(1);
    await sleep(40);
    progress.stop();
    expect(lines).toHaveLength(0);
  });
});
