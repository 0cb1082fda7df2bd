import { StepcoderError } from '@stepcoder/core';

export interface LimiterOptions {
  /** Requests doing work at once, all keys together. */
  maxConcurrency: number;
  /** Requests doing work at once for one API key (or one anonymous loopback client). */
  perKeyConcurrency: number;
  /** Requests waiting for a slot, all keys together; beyond it a request is refused (429). */
  maxQueue: number;
}

interface Waiter {
  key: string;
  resolve: (release: () => void) => void;
  reject: (err: unknown) => void;
  signal?: AbortSignal;
  onAbort?: () => void;
}

/**
 * Admission control: at most `maxConcurrency` requests run, at most `perKeyConcurrency` of one key,
 * and at most `maxQueue` wait. The queue is the only buffer, so memory stays bounded however many
 * clients push: a request that finds the queue full is refused at once (`QUEUE_FULL` → 429) rather
 * than parked. Waiters are served in arrival order, skipping those whose key is at its own limit
 * so that one greedy key cannot stall the others.
 */
export class ConcurrencyLimiter {
  private running = 0;
  private readonly perKey = new Map<string, number>();
  private readonly queue: Waiter[] = [];
  private closed = false;

  constructor(readonly options: LimiterOptions) {}

  get inFlight(): number {
    return this.running;
  }

  get queued(): number {
    return this.queue.length;
  }

  /** Wait for a slot; resolves to the function that gives it back (call it exactly once). */
  acquire(key: string, signal?: AbortSignal): Promise<() => void> {
    if (this.closed) {
      return Promise.reject(new StepcoderError('SHUTTING_DOWN', 'the server is shutting down'));
    }
    if (this.canRun(key)) return Promise.resolve(this.start(key));
    if (this.queue.length >= this.options.maxQueue) {
      return Promise.reject(
        new StepcoderError(
          'QUEUE_FULL',
          `server busy: ${this.running} requests running and ${this.queue.length} queued (limits: ${this.options.maxConcurrency} running, ${this.options.maxQueue} queued)`,
          { details: { running: this.running, queued: this.queue.length } },
        ),
      );
    }
    return new Promise((resolve, reject) => {
      const waiter: Waiter = { key, resolve, reject, signal };
      if (signal) {
        waiter.onAbort = () => {
          const i = this.queue.indexOf(waiter);
          if (i >= 0) this.queue.splice(i, 1);
          reject(new StepcoderError('ABORTED', 'the request was cancelled while queued'));
        };
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
      this.queue.push(waiter);
    });
  }

  /** Refuse new work and fail every queued request; running ones finish. */
  close(): void {
    this.closed = true;
    for (const w of this.queue.splice(0)) {
      if (w.onAbort) w.signal?.removeEventListener('abort', w.onAbort);
      w.reject(new StepcoderError('SHUTTING_DOWN', 'the server is shutting down'));
    }
  }

  private canRun(key: string): boolean {
    return (
      this.running < this.options.maxConcurrency &&
      (this.perKey.get(key) ?? 0) < this.options.perKeyConcurrency
    );
  }

  private start(key: string): () => void {
    this.running++;
    this.perKey.set(key, (this.perKey.get(key) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.running--;
      const left = (this.perKey.get(key) ?? 1) - 1;
      if (left === 0) this.perKey.delete(key);
      else this.perKey.set(key, left);
      this.drain();
    };
  }

  private drain(): void {
    for (let i = 0; i < this.queue.length && this.running < this.options.maxConcurrency; ) {
      const w = this.queue[i]!;
      if (!this.canRun(w.key)) {
        i++;
        continue;
      }
      this.queue.splice(i, 1);
      if (w.onAbort) w.signal?.removeEventListener('abort', w.onAbort);
      w.resolve(this.start(w.key));
    }
  }
}
