import { StepcoderError } from '@stepcoder/core';
import { Redis, type RedisOptions } from 'ioredis';

/** The URL as it may appear in logs and errors: the password replaced by `***`. */
export function redactUrl(url: string): string {
  return url.replace(/^(rediss?:\/\/[^:@/]*:)[^@/]*@/, '$1***@');
}

/** Reconnect quickly at first, then every 2 s at most, forever (a fleet outlives Redis restarts). */
function reconnectDelay(times: number): number {
  return Math.min(50 * 2 ** Math.min(times, 6), 2000);
}

export interface ConnectOptions {
  connectTimeoutMs: number;
  /** Who connects, for the error message: `executor 'queue'` or `stepcoder worker`. */
  who: string;
  /**
   * `false` for connections that must fail fast while Redis is down (enqueueing), `null` retries
   * forever (what BullMQ requires of its blocking connections).
   */
  maxRetriesPerRequest: number | null;
  enableOfflineQueue: boolean;
}

/**
 * Connect and PING once, so that a wrong URL or a stopped Redis fails here, with the URL in the
 * message, instead of as a hang on the first job.
 */
export async function connectRedis(url: string, options: ConnectOptions): Promise<Redis> {
  const redisOptions: RedisOptions = {
    lazyConnect: true,
    connectTimeout: options.connectTimeoutMs,
    maxRetriesPerRequest: options.maxRetriesPerRequest,
    enableOfflineQueue: options.enableOfflineQueue,
    retryStrategy: reconnectDelay,
  };
  const client = new Redis(url, redisOptions);
  // Until the probe resolves, connection errors surface through connect(); later ones are the
  // owner's to watch. Without a listener ioredis prints every reconnect error.
  client.on('error', () => {});
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      client.connect().then(() => client.ping()),
      new Promise((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`no answer within ${options.connectTimeoutMs} ms`)),
          options.connectTimeoutMs,
        );
      }),
    ]);
  } catch (err) {
    client.disconnect();
    throw new StepcoderError(
      'REDIS_UNAVAILABLE',
      `${options.who}: cannot reach Redis at ${redactUrl(url)}: ${err instanceof Error ? err.message : String(err)}`,
      { cause: err, details: { redis: redactUrl(url) } },
    );
  } finally {
    clearTimeout(timer);
  }
  return client;
}

/** A second connection to the same server (BullMQ's blocking reads each need their own). */
export function blockingConnection(client: Redis): Redis {
  const duplicate = client.duplicate({ maxRetriesPerRequest: null, enableOfflineQueue: true });
  duplicate.on('error', () => {});
  return duplicate;
}
