// The server under benchmark, in its own process (as a trainer would reach it): prints its URL.
import { closeOnSignals, createServer } from '../src/index.js';

const pool = Number(process.env.BENCH_POOL);
const server = createServer({
  port: 0,
  logLevel: 'warn',
  maxConcurrency: Number(process.env.BENCH_MAX_CONCURRENCY),
  perKeyConcurrency: Number(process.env.BENCH_MAX_CONCURRENCY),
  maxQueue: Number(process.env.BENCH_MAX_QUEUE),
  executors: { python: { name: 'python', options: { poolSize: pool } } },
});
const url = await server.listen();
await server.warmup();
process.stdout.write(`${JSON.stringify({ url })}\n`);
closeOnSignals(server, () => process.exit(0));
