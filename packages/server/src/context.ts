import { StepcoderError } from '@stepcoder/core';
import type { FastifyRequest } from 'fastify';
import type { ConcurrencyLimiter } from './limiter.js';
import type { ServerMetrics } from './metrics.js';
import type { ResolvedServerOptions } from './options.js';
import type { PluginRuntime } from './runtime.js';

/** What every route handler shares. */
export interface ServerContext {
  options: ResolvedServerOptions;
  runtime: PluginRuntime;
  limiter: ConcurrencyLimiter;
  metrics: ServerMetrics;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The API key's id (`key-0`…), or `anonymous` on a keyless loopback server. */
    keyId: string;
  }
}

/**
 * Run `work` holding one execution slot of the caller's key, under the request deadline. The
 * signal aborts when the deadline passes or the client goes away, so executors stop early.
 */
export async function withSlot<T>(
  ctx: ServerContext,
  request: FastifyRequest,
  work: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const controller = new AbortController();
  const onClose = () => {
    if (!request.raw.complete || request.raw.destroyed) controller.abort(new Error('client went away'));
  };
  request.raw.socket?.once('close', onClose);
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const err = new StepcoderError(
        'DEADLINE',
        `request exceeded the server's ${ctx.options.requestTimeoutMs} ms deadline`,
      );
      controller.abort(err);
      reject(err);
    }, ctx.options.requestTimeoutMs);
  });
  try {
    const acquiring = ctx.limiter.acquire(request.keyId, controller.signal);
    // If the deadline wins while a slot is being handed over, give that slot straight back.
    acquiring.then(
      (release) => controller.signal.aborted && release(),
      () => {},
    );
    const release = await Promise.race([acquiring, deadline]);
    try {
      return await Promise.race([work(controller.signal), deadline]);
    } finally {
      release();
    }
  } finally {
    clearTimeout(timer);
    request.raw.socket?.off('close', onClose);
  }
}
