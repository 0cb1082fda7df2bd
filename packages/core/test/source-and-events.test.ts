import { describe, expect, it } from 'vitest';
import {
  createEventBus,
  LineIndex,
  parseProblem,
  testCount,
  utf8ColumnToUtf16,
  ValidationError,
} from '../src/index.js';

describe('LineIndex', () => {
  it('maps offsets and positions both ways, CRLF included', () => {
    const text = 'a = 1\r\nif a:\r\n    b = 2\r\n';
    const idx = new LineIndex(text);
    expect(idx.lineCount).toBe(4);
    expect(idx.offsetOf({ line: 3, column: 4 })).toBe(text.indexOf('b = 2'));
    expect(idx.positionOf(text.indexOf('b = 2'))).toEqual({ line: 3, column: 4 });
    expect(text.slice(...idx.lineRange(2))).toBe('if a:');
    expect(idx.offsetOf({ line: 1, column: 999 })).toBe(7);
  });
  it('converts UTF-8 byte columns to UTF-16 columns', () => {
    const line = 'größe = "😀" + x';
    const bytesBeforeX = Buffer.byteLength(line.slice(0, line.indexOf('x')));
    expect(utf8ColumnToUtf16(line, bytesBeforeX)).toBe(line.indexOf('x'));
  });
});

describe('EventBus', () => {
  it('delivers typed events, isolates throwing handlers, unsubscribes', () => {
    const bus = createEventBus();
    const seen: number[] = [];
    bus.on('metric', () => {
      throw new Error('bad subscriber');
    });
    const off = bus.on('metric', (m) => seen.push(m.value));
    bus.emit('metric', { name: 'reward', value: 1, step: 0 });
    off();
    bus.emit('metric', { name: 'reward', value: 2, step: 1 });
    expect(seen).toEqual([1]);
    expect(bus.handlerErrors).toHaveLength(2);
    let once = 0;
    bus.once('log', () => once++);
    bus.emit('log', { level: 'info', message: 'a' });
    bus.emit('log', { level: 'info', message: 'b' });
    expect(once).toBe(1);
  });
});

describe('parseProblem', () => {
  const good = {
    id: 'p1',
    prompt: 'Add two numbers',
    language: 'python',
    canonicalSolutions: ['def add(a, b):\n    return a + b\n'],
    tests: { kind: 'call', fnName: 'add', inputs: [[1, 2]], outputs: [3] },
  };
  it('accepts a valid problem', () => {
    const p = parseProblem(good);
    expect(testCount(p.tests)).toBe(1);
  });
  it('names every bad field', () => {
    const bad = {
      ...good,
      language: 'cobol',
      tests: { kind: 'call', fnName: '', inputs: [[1]], outputs: [] },
    };
    try {
      parseProblem(bad, 'problem at data.jsonl:3');
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ValidationError);
      const v = err as ValidationError;
      expect(v.code).toBe('INVALID_PROBLEM');
      expect(v.message).toContain('problem at data.jsonl:3');
      const paths = v.issues.map((i) => i.path);
      expect(paths).toContain('language');
      expect(paths).toContain('tests.fnName');
    }
  });
});

describe('selectTests', () => {
  it('keeps all tests, the first N, or a seeded sample of N in ascending order', async () => {
    const { selectTests } = await import('../src/index.js');
    expect(selectTests(4, undefined)).toEqual([0, 1, 2, 3]);
    expect(selectTests(4, { first: 2 })).toEqual([0, 1]);
    const a = selectTests(20, { sample: 5, seed: 7 });
    expect(a).toHaveLength(5);
    expect([...a].sort((x, y) => x - y)).toEqual(a);
    expect(new Set(a).size).toBe(5);
    expect(selectTests(20, { sample: 5, seed: 7 })).toEqual(a);
    expect(selectTests(20, { sample: 5, seed: 8 })).not.toEqual(a);
  });
});
