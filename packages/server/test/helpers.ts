import { createServer, type ServerOptions, type StepcoderServer } from '../src/index.js';

/** Response bodies as tests read them: arbitrary JSON, checked by the assertions. */
// biome-ignore lint/suspicious/noExplicitAny: test bodies are checked by assertions, not types
export type Json = any;

export interface Running {
  server: StepcoderServer;
  url: string;
  post(
    path: string,
    body: unknown,
    headers?: Record<string, string>,
  ): Promise<{ status: number; json: Json; headers: Headers }>;
}

/** A real server on 127.0.0.1 with an ephemeral port, quiet logs. */
export async function startServer(options: ServerOptions = {}): Promise<Running> {
  const server = createServer({
    host: '127.0.0.1',
    port: 0,
    logLevel: 'silent',
    skipWarmup: true,
    ...options,
  });
  const url = await server.listen();
  return {
    server,
    url,
    async post(path, body, headers = {}) {
      const res = await fetch(url + path, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      });
      const text = await res.text();
      return { status: res.status, json: text ? JSON.parse(text) : undefined, headers: res.headers };
    },
  };
}

/** A problem with a branch, so that coverage (and the FGO mask) differ between arms. */
export const ADD_PROBLEM = {
  id: 'add',
  prompt: 'Add two numbers.',
  language: 'python',
  canonicalSolutions: ['def add(a, b):\n    if a > 0:\n        return a + b\n    return b + a\n'],
  tests: {
    kind: 'call',
    fnName: 'add',
    inputs: [
      [1, 2],
      [2, 3],
    ],
    outputs: [3, 5],
  },
} as const;
