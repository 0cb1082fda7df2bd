import { createServer, type Server } from 'node:http';
import type { Outcome } from '@stepcoder/core';

/** Counters of one worker process, logged as JSON and served in Prometheus' text format. */
export class WorkerCounters {
  readonly startedAt = Date.now();
  active = 0;
  /** Jobs that ended with a result, by outcome (infra_error included: it is a result). */
  readonly outcomes = new Map<Outcome, number>();
  /** Jobs whose processing threw (retried by BullMQ up to the caller's attempts). */
  errors = 0;
  /** Jobs the caller cancelled while they ran. */
  cancelled = 0;
  /** Sum of job run times, ms, for the mean. */
  busyMs = 0;

  get completed(): number {
    let n = 0;
    for (const v of this.outcomes.values()) n += v;
    return n;
  }

  record(outcome: Outcome, ms: number): void {
    this.outcomes.set(outcome, (this.outcomes.get(outcome) ?? 0) + 1);
    this.busyMs += ms;
  }

  snapshot(): Record<string, unknown> {
    return {
      uptimeS: Math.round((Date.now() - this.startedAt) / 1000),
      active: this.active,
      completed: this.completed,
      errors: this.errors,
      cancelled: this.cancelled,
      outcomes: Object.fromEntries(this.outcomes),
      meanJobMs: this.completed > 0 ? Math.round(this.busyMs / this.completed) : 0,
    };
  }

  prometheus(redisUp: boolean): string {
    const lines = [
      '# HELP stepcoder_worker_jobs_total Jobs finished with a result, by outcome.',
      '# TYPE stepcoder_worker_jobs_total counter',
      ...[...this.outcomes].map(([o, n]) => `stepcoder_worker_jobs_total{outcome="${o}"} ${n}`),
      '# HELP stepcoder_worker_job_errors_total Jobs whose processing threw (retried).',
      '# TYPE stepcoder_worker_job_errors_total counter',
      `stepcoder_worker_job_errors_total ${this.errors}`,
      '# HELP stepcoder_worker_jobs_cancelled_total Jobs cancelled by their caller while running.',
      '# TYPE stepcoder_worker_jobs_cancelled_total counter',
      `stepcoder_worker_jobs_cancelled_total ${this.cancelled}`,
      '# HELP stepcoder_worker_job_seconds_total Time spent running jobs.',
      '# TYPE stepcoder_worker_job_seconds_total counter',
      `stepcoder_worker_job_seconds_total ${(this.busyMs / 1000).toFixed(3)}`,
      '# HELP stepcoder_worker_active_jobs Jobs running now.',
      '# TYPE stepcoder_worker_active_jobs gauge',
      `stepcoder_worker_active_jobs ${this.active}`,
      '# HELP stepcoder_worker_redis_up 1 while the Redis connection is ready.',
      '# TYPE stepcoder_worker_redis_up gauge',
      `stepcoder_worker_redis_up ${redisUp ? 1 : 0}`,
    ];
    return `${lines.join('\n')}\n`;
  }
}

/** `/metrics` (Prometheus text) and `/healthz` (200 while Redis is reachable, else 503). */
export async function serveMetrics(
  counters: WorkerCounters,
  redisUp: () => boolean,
  port: number,
  host: string,
): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.url === '/metrics') {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
      res.end(counters.prometheus(redisUp()));
    } else if (req.url === '/healthz') {
      const up = redisUp();
      res.writeHead(up ? 200 : 503, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ redis: up ? 'up' : 'down', ...counters.snapshot() }));
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return server;
}
