import { describe, expect, it } from 'vitest';
import { createRng, Rng } from '../src/index.js';

const draw = (rng: Rng, n: number) => Array.from({ length: n }, () => rng.next());

describe('Rng', () => {
  it('same seed, same stream; different seeds, different streams', () => {
    expect(draw(createRng(42), 20)).toEqual(draw(createRng(42), 20));
    expect(draw(createRng(42), 20)).not.toEqual(draw(createRng(43), 20));
    expect(draw(createRng('run-a'), 5)).toEqual(draw(createRng('run-a'), 5));
  });

  it('draws uniform floats in [0, 1) with a plausible mean and spread', () => {
    const xs = draw(createRng(1), 20000);
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...xs)).toBeLessThan(1);
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.01);
    const buckets = new Array(10).fill(0);
    for (const x of xs) buckets[Math.floor(x * 10)]++;
    for (const b of buckets) expect(Math.abs(b - 2000)).toBeLessThan(200);
  });

  it('split streams depend only on the seed path and label', () => {
    const a = createRng(7);
    const b = createRng(7);
    draw(b, 100); // b consumed numbers; its children must not change
    expect(draw(a.split('sampling'), 10)).toEqual(draw(b.split('sampling'), 10));
    expect(draw(a.split('sampling'), 10)).not.toEqual(draw(a.split('dropout'), 10));
    expect(a.split('x').split(3).path).toBe('7/x/3');
  });

  it('state round-trips mid-stream', () => {
    const rng = createRng(99);
    draw(rng, 13);
    rng.normal(); // leaves a spare normal pending: state() must not depend on it for uniforms
    const saved = JSON.parse(JSON.stringify(rng.state()));
    const resumed = Rng.fromState(saved);
    expect(draw(resumed, 10)).toEqual(draw(rng, 10));
  });

  it('int, shuffle, sample and categorical stay in range and are deterministic', () => {
    const rng = createRng(5);
    for (let i = 0; i < 1000; i++) {
      const v = rng.int(7);
      expect(Number.isInteger(v) && v >= 0 && v < 7).toBe(true);
    }
    const items = Array.from({ length: 20 }, (_, i) => i);
    const s1 = createRng(3).shuffle(items);
    expect(s1).toEqual(createRng(3).shuffle(items));
    expect([...s1].sort((x, y) => x - y)).toEqual(items);
    expect(s1).not.toEqual(items);
    const sample = createRng(3).sample(items, 5);
    expect(new Set(sample).size).toBe(5);
    const counts = [0, 0, 0];
    const c = createRng(11);
    for (let i = 0; i < 9000; i++) counts[c.categorical([1, 0, 2])]!++;
    expect(counts[1]).toBe(0);
    expect(Math.abs(counts[2]! / counts[0]! - 2)).toBeLessThan(0.2);
  });

  it('normal draws have mean ~0 and variance ~1', () => {
    const rng = createRng(2024);
    const xs = Array.from({ length: 20000 }, () => rng.normal());
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    const variance = xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length;
    expect(Math.abs(mean)).toBeLessThan(0.03);
    expect(Math.abs(variance - 1)).toBeLessThan(0.05);
  });

  it('rejects bad arguments with typed errors', () => {
    expect(() => createRng(Number.NaN)).toThrow(/finite/);
    expect(() => createRng(1).int(0)).toThrow(/positive integer/);
    expect(() => createRng(1).choice([])).toThrow(/empty/);
    expect(() => createRng(1).categorical([0, 0])).toThrow(/positive total/);
  });
});
