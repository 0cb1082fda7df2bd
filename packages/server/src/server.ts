import type { AddressInfo } from 'node:net';
import { type Language, StepcoderError, validate } from '@stepcoder/core';
import Fastify, { type FastifyInstance } from 'fastify';
import { ApiKeys, bearerToken, isLoopback } from './auth.js';
import type { ServerContext } from './context.js';
import { toHttpFailure } from './http-errors.js';
import { ConcurrencyLimiter } from './limiter.js';
import { ServerMetrics } from './metrics.js';
import { openApiDocument } from './openapi.js';
import { type ResolvedServerOptions, type ServerOptions, serverOptionsSchema } from './options.js';
import { curriculumRoute } from './routes/curriculum.js';
import { executeRoute } from './routes/execute.js';
import { runCodeRoute } from './routes/run-code.js';
import { scoreRoute } from './routes/score.js';
import { PluginRuntime } from './runtime.js';

/** Version of the HTTP contract (not of the package): bumped when a route changes incompatibly. */
export const API_VERSION = '1.0.0';

/** Routes anyone may call: probes for load balancers and the API description. */
const OPEN_ROUTES = new Set(['/healthz', '/readyz', '/openapi.json']);

/** A program per executor that proves it can start, import and print (readiness). */
const WARMUP: Array<{ language: Language; program: string }> = [
  { language: 'python', program: 'print(input())' },
  { language: 'javascript', program: 'console.log(require("fs").readFileSync(0, "utf8").trim())' },
];

export interface StepcoderServer {
  readonly app: FastifyInstance;
  readonly options: ResolvedServerOptions;
  /** Bind and start serving; resolves to the base URL (`http://127.0.0.1:PORT`). */
  listen(): Promise<string>;
  /** Warm every executor (run one tiny program each); `/readyz` answers 200 once it succeeds. */
  warmup(): Promise<void>;
  /**
   * Graceful shutdown: stop accepting, refuse queued work, let in-flight requests finish (up to
   * `shutdownGraceMs`), then dispose executors. Idempotent.
   */
  close(): Promise<void>;
}

/** Build the service; nothing is bound until `listen()`. */
export function createServer(input: ServerOptions = {}): StepcoderServer {
  const options = validate(serverOptionsSchema, input, 'server options', 'INVALID_CONFIG');
  if (options.apiKeys.length === 0 && !isLoopback(options.host)) {
    throw new StepcoderError(
      'INVALID_CONFIG',
      `server options: apiKeys is empty but host '${options.host}' is not loopback; give at least one API key (STEPCODER_API_KEYS) or bind 127.0.0.1`,
      { details: { path: 'apiKeys' } },
    );
  }
  const limiter = new ConcurrencyLimiter(options);
  const metrics = new ServerMetrics({ inFlight: () => limiter.inFlight, queued: () => limiter.queued });
  const runtime = new PluginRuntime(options);
  const ctx: ServerContext = { options, runtime, limiter, metrics };
  const keys = new ApiKeys(options.apiKeys);
  let ready = options.skipWarmup;
  let notReadyReason = 'warming up executors';
  let closing: Promise<void> | undefined;

  const app = Fastify({
    logger: {
      level: options.logLevel,
      ...(options.logStream ? { stream: options.logStream } : {}),
      serializers: {
        // The SandboxFusion route may carry the API key in its query string: never log it.
        req: (req: { method: string; url: string; ip?: string }) => ({
          method: req.method,
          url: req.url.replace(/([?&]api_key=)[^&]*/g, '$1[redacted]'),
          remoteAddress: req.ip,
        }),
      },
    },
    bodyLimit: options.bodyLimitBytes,
    // Time a client has to send its whole request (slow-loris guard); work has its own deadline.
    requestTimeout: 30_000,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
  });
  app.decorateRequest('keyId', '');

  app.addHook('onRequest', async (request, reply) => {
    const route = request.routeOptions.url;
    if (!keys.enabled || (route !== undefined && OPEN_ROUTES.has(route))) {
      request.keyId = 'anonymous';
      return;
    }
    const query = request.query as Record<string, unknown> | undefined;
    const token =
      bearerToken(request.headers.authorization) ??
      (route === '/run_code' && typeof query?.api_key === 'string' ? query.api_key : undefined);
    const caller = keys.check(token);
    if (!caller.authenticated) {
      metrics.rejected.inc({ reason: 'unauthorized' });
      reply.header('www-authenticate', 'Bearer');
      return reply.code(401).send({ error: { code: 'UNAUTHORIZED', message: caller.reason } });
    }
    request.keyId = caller.keyId;
  });

  app.addHook('onSend', async (_request, reply) => {
    // Once shutdown starts, end each kept-alive connection after its response so close() can finish.
    if (closing) reply.header('connection', 'close');
  });

  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.requests.inc({ route, status: String(reply.statusCode) });
    metrics.latency.observe({ route }, reply.elapsedTime / 1000);
  });

  app.setErrorHandler((err, request, reply) => {
    const failure = toHttpFailure(err);
    if (failure.status >= 500) request.log.error({ err }, 'request failed');
    if (failure.status === 429) metrics.rejected.inc({ reason: 'queue_full' });
    if (failure.status === 503) metrics.rejected.inc({ reason: 'shutting_down' });
    if (failure.retryAfter !== undefined) reply.header('retry-after', String(failure.retryAfter));
    return reply.code(failure.status).send(failure.body);
  });

  app.setNotFoundHandler((request, reply) =>
    reply
      .code(404)
      .send({ error: { code: 'NOT_FOUND', message: `no route ${request.method} ${request.url}` } }),
  );

  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    if (ready && !closing) return { ready: true };
    return reply.code(503).send({ ready: false, reason: closing ? 'shutting down' : notReadyReason });
  });
  app.get('/metrics', async (_request, reply) => {
    reply.header('content-type', metrics.registry.contentType);
    return metrics.registry.metrics();
  });
  const openapi = openApiDocument(API_VERSION);
  app.get('/openapi.json', async () => openapi);
  executeRoute(app, ctx);
  scoreRoute(app, ctx);
  curriculumRoute(app, ctx);
  runCodeRoute(app, ctx);

  async function warmup(): Promise<void> {
    try {
      for (const { language, program } of WARMUP) {
        const executor = await runtime.executorFor(language);
        const result = await executor.run({
          program,
          language,
          tests: { kind: 'stdio', cases: [{ input: 'ready\n', output: 'ready\n' }] },
        });
        if (result.outcome !== 'pass') {
          throw new StepcoderError(
            'NOT_READY',
            `warm-up of the ${language} executor gave ${result.outcome}: ${result.message ?? ''}`,
          );
        }
      }
      ready = true;
    } catch (err) {
      notReadyReason = err instanceof Error ? err.message : String(err);
      app.log.error({ err }, 'executor warm-up failed');
      throw err;
    }
  }

  async function shutdown(): Promise<void> {
    app.log.info({ inFlight: limiter.inFlight, queued: limiter.queued }, 'shutting down');
    limiter.close();
    const closed = await settlesWithin(app.close(), options.shutdownGraceMs);
    if (!closed) {
      app.log.warn('shutdown grace elapsed: cutting remaining connections');
      app.server.closeAllConnections();
    }
    // Bounded too: an executor that cannot stop its workers must not keep the process alive.
    if (!(await settlesWithin(runtime.dispose(), options.shutdownGraceMs))) {
      app.log.warn('executors did not finish disposing within the shutdown grace');
    }
    app.log.info('shut down');
  }

  return {
    app,
    options,
    async listen() {
      await app.listen({ host: options.host, port: options.port });
      const address = app.server.address() as AddressInfo;
      const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
      return `http://${host}:${address.port}`;
    },
    warmup,
    close() {
      closing ??= shutdown();
      return closing;
    },
  };
}

/** Whether `work` settles within `ms` (its result is not needed, only that it ended). */
async function settlesWithin(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([work.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
