import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * Prometheus metrics of one server. Each server owns its registry (not prom-client's global one),
 * so several servers in one process (tests, embedding) never share or collide on counters.
 */
export class ServerMetrics {
  readonly registry = new Registry();
  readonly requests: Counter<'route' | 'status'>;
  readonly latency: Histogram<'route'>;
  readonly outcomes: Counter<'route' | 'outcome'>;
  readonly rejected: Counter<'reason'>;

  constructor(gauges: { inFlight: () => number; queued: () => number }) {
    const registers = [this.registry];
    this.requests = new Counter({
      name: 'stepcoder_http_requests_total',
      help: 'HTTP requests by route and status code',
      labelNames: ['route', 'status'],
      registers,
    });
    this.latency = new Histogram({
      name: 'stepcoder_http_request_duration_seconds',
      help: 'Time from request received to response sent, by route',
      labelNames: ['route'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    });
    this.outcomes = new Counter({
      name: 'stepcoder_execution_outcomes_total',
      help: 'Verdicts of executed programs (one per /v1/execute, /run_code request or /v1/score item)',
      labelNames: ['route', 'outcome'],
      registers,
    });
    this.rejected = new Counter({
      name: 'stepcoder_rejected_requests_total',
      help: 'Requests refused before doing work: queue_full (429), unauthorized (401), shutting_down (503)',
      labelNames: ['reason'],
      registers,
    });
    new Gauge({
      name: 'stepcoder_in_flight_requests',
      help: 'Requests holding an execution slot',
      registers,
      collect() {
        this.set(gauges.inFlight());
      },
    });
    new Gauge({
      name: 'stepcoder_queue_depth',
      help: 'Requests waiting for an execution slot',
      registers,
      collect() {
        this.set(gauges.queued());
      },
    });
  }
}
