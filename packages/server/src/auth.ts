import { createHash, timingSafeEqual } from 'node:crypto';

/** Identity of a caller for per-key limits and logs; never the secret itself. */
export type Caller = { authenticated: true; keyId: string } | { authenticated: false; reason: string };

const digest = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();

/**
 * Bearer-token check. Keys are compared as SHA-256 digests with `timingSafeEqual`, and every key is
 * compared (no early exit), so neither the length nor the content of a key leaks through timing.
 */
export class ApiKeys {
  private readonly digests: Buffer[];

  constructor(keys: readonly string[]) {
    this.digests = keys.map(digest);
  }

  get enabled(): boolean {
    return this.digests.length > 0;
  }

  /** `token`: the bearer token (or the `api_key` query value SandboxFusion clients can carry). */
  check(token: string | undefined): Caller {
    if (token === undefined || token === '') {
      return { authenticated: false, reason: 'missing API key: send "Authorization: Bearer <key>"' };
    }
    const given = digest(token);
    let match = -1;
    this.digests.forEach((d, i) => {
      if (timingSafeEqual(d, given) && match < 0) match = i;
    });
    return match >= 0
      ? { authenticated: true, keyId: `key-${match}` }
      : { authenticated: false, reason: 'invalid API key' };
  }
}

/** The token of an `Authorization: Bearer <token>` header, if that is what the header holds. */
export function bearerToken(header: string | undefined): string | undefined {
  const m = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  return m ? m[1] : undefined;
}

/** Loopback binds may run without keys: only processes on this machine can connect. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}
