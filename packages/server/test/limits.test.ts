import { describe, expect, it } from 'vitest';
import { ConcurrencyLimiter } from '../src/index.js';
import { busyRequest, waitForMetric } from './busy.js';
import { startServer } from './helpers.js';

describe('admission control', () => {
  it('runs up to the limit, queues up to the queue bound, and refuses the rest with 429 + Retry-After', async () => {
    const s = await startServer({ maxConcurrency: 1, maxQueue: 1 });
    try {
      const first = s.post('/v1/execute', busyRequest(400));
      await waitForMetric(s.url, 'stepcoder_in_flight_requests', 1);
      const second = s.post('/v1/execute', busyRequest(10));
      await waitForMetric(s.url, 'stepcoder_queue_depth', 1);
      const third = await s.post('/v1/execute', busyRequest(10));
      expect(third.status).toBe(429);
      expect(third.headers.get('retry-after')).toBe('1');
      expect(third.json.error.code).toBe('QUEUE_FULL');
      expect((await first).json.outcome).toBe('pass');
      expect((await second).json.outcome).toBe('pass');
    } finally {
      await s.server.close();
    }
  });

  it('answers 504 when a request outlives the deadline, and frees its slot', async () => {
    const s = await startServer({ maxConcurrency: 1, requestTimeoutMs: 300 });
    try {
      const slow = await s.post('/v1/execute', busyRequest(1500));
      expect(slow.status).toBe(504);
      expect(slow.json.error.code).toBe('DEADLINE');
      const next = await s.post('/v1/execute', busyRequest(1));
      expect(next.status).toBe(200);
    } finally {
      await s.server.close();
    }
  });

  it('keeps one key at its own limit while another key runs', async () => {
    const limiter = new ConcurrencyLimiter({ maxConcurrency: 2, perKeyConcurrency: 1, maxQueue: 4 });
    const a1 = await limiter.acquire('a');
    const a2 = limiter.acquire('a');
    const b1 = await limiter.acquire('b');
    expect(limiter.inFlight).toBe(2);
    expect(limiter.queued).toBe(1);
    b1();
    expect(limiter.queued).toBe(1); // 'a' is still at its own limit
    a1();
    (await a2)();
    expect(limiter.inFlight).toBe(0);
  });

  it('fails queued waiters when closed and refuses new ones', async () => {
    const limiter = new ConcurrencyLimiter({ maxConcurrency: 1, perKeyConcurrency: 1, maxQueue: 4 });
    const running = await limiter.acquire('a');
    const queued = limiter.acquire('a');
    limiter.close();
    await expect(queued).rejects.toThrow(/shutting down/);
    await expect(limiter.acquire('b')).rejects.toThrow(/shutting down/);
    running();
  });
});
