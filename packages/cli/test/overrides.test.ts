import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MetricsLog } from '../src/metrics-log.js';
import { applyOverrides } from '../src/overrides.js';
import { createProgress, formatEta } from '../src/progress.js';

describe('--set overrides cannot reach a prototype', () => {
  it.each([
    '__proto__.polluted=1',
    'constructor.prototype.polluted=1',
    'train.__proto__.polluted=1',
    'train={"__proto__":{"polluted":1}}',
  ])('refuses %s and leaves Object.prototype alone', (override) => {
    expect(() => applyOverrides({ train: {} }, [override])).toThrow(/not a config key/);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.hasOwn(Object.prototype, 'polluted')).toBe(false);
  });

  it('treats inherited names as absent, and refuses empty keys', () => {
    expect(applyOverrides({}, ['toString.x=1'])).toEqual({ toString: { x: 1 } });
    expect(() => applyOverrides({}, ['train..steps=1'])).toThrow(/empty key/);
  });
});

describe('a run of zero steps', () => {
  it('reads a metrics log that was never written as no rows (train.steps=0 used to crash)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'stepcoder-metrics-'));
    expect(MetricsLog.read(new MetricsLog(join(dir, 'metrics.jsonl')).path)).toEqual([]);
  });
});

describe('progress ETA', () => {
  it('is unknown at 0% and measured afterwards', () => {
    expect(formatEta(5000, 0, 10)).toBe('?');
    expect(formatEta(5000, 5, 10)).toBe('5s');
    expect(formatEta(60_000, 1, 4)).toBe('3m00s');
    expect(formatEta(1000, 10, 10)).toBe('0s');
  });

  it('writes "ETA ?" on the first plain-log line', () => {
    const lines: string[] = [];
    const stream = { isTTY: false, write: (s: string) => lines.push(s) } as unknown as NodeJS.WriteStream;
    const progress = createProgress('eval train', 4, { stream, logEvery: 1 });
    progress.update(0);
    progress.update(4);
    expect(lines[0]).toMatch(/^eval train 0\/4 \| 0s elapsed, ETA \?$/m);
    expect(lines[1]).toMatch(/^eval train 4\/4 .*ETA 0s/);
  });
});
