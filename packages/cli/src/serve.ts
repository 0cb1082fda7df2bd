import { readFileSync } from 'node:fs';
import { registry, StepcoderError } from '@stepcoder/core';
import type { Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import { registerPluginLoaders } from './plugins.js';

interface ServeFlags {
  host: string;
  port: string;
  apiKey: string[];
  concurrency?: string;
  perKey?: string;
  queue?: string;
  bodyLimitMb?: string;
  timeoutMs?: string;
  tokenizer: string[];
  options?: string;
  logLevel?: string;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function int(flag: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n))
    throw new StepcoderError('INVALID_CONFIG', `${flag} must be an integer, got '${text}'`);
  return n;
}

/** `name=path` pairs of --tokenizer. */
function tokenizers(pairs: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of pairs) {
    const i = pair.indexOf('=');
    if (i <= 0 || i === pair.length - 1) {
      throw new StepcoderError(
        'INVALID_CONFIG',
        `--tokenizer takes name=path/to/tokenizer.json, got '${pair}'`,
      );
    }
    out[pair.slice(0, i)] = pair.slice(i + 1);
  }
  return out;
}

/**
 * `stepcoder serve`: the plugins as an HTTP service for trainers in other languages. Keys come
 * from --api-key or STEPCODER_API_KEYS (comma-separated) so they need not appear in `ps`.
 * Other server options (executors with their options, limits…) come from --options, a JSON or
 * YAML file of `createServer` options; flags win over it.
 */
export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description('serve /v1/execute, /v1/score, /v1/curriculum/prompt and SandboxFusion /run_code over HTTP')
    .option('--host <host>', 'interface to bind (non-loopback requires API keys)', '127.0.0.1')
    .option('-p, --port <port>', 'port (0: any free port)', '8080')
    .option('--api-key <key>', 'accepted bearer token (repeatable; or STEPCODER_API_KEYS=k1,k2)', collect, [])
    .option('--concurrency <n>', 'requests executing at once (default 16)')
    .option('--per-key <n>', 'requests executing at once per API key (default 16)')
    .option('--queue <n>', 'requests waiting for a slot before 429 (default 64)')
    .option('--body-limit-mb <n>', 'largest request body in MiB (default 8)')
    .option('--timeout-ms <n>', 'whole-request deadline in ms (default 120000)')
    .option('--tokenizer <name=path>', 'a named tokenizer.json for /v1/score (repeatable)', collect, [])
    .option('--options <file>', 'JSON or YAML file of server options (executors, maxLimits, …)')
    .option('--log-level <level>', 'fatal, error, warn, info, debug, trace or silent', 'info')
    .action(async (flags: ServeFlags) => {
      const { closeOnSignals, createServer } = await import('@stepcoder/server');
      const fromFile = flags.options
        ? (parseYaml(readFileSync(flags.options, 'utf8')) as Record<string, unknown>)
        : {};
      const envKeys = (process.env.STEPCODER_API_KEYS ?? '')
        .split(',')
        .map((k) => k.trim())
        .filter(Boolean);
      const bodyLimitMb = int('--body-limit-mb', flags.bodyLimitMb);
      // The CLI's loaders (every plugin package it depends on) on the registry the server uses.
      registerPluginLoaders(registry);
      const server = createServer({
        ...fromFile,
        host: flags.host,
        port: int('--port', flags.port),
        apiKeys: [...((fromFile.apiKeys as string[] | undefined) ?? []), ...envKeys, ...flags.apiKey],
        maxConcurrency: int('--concurrency', flags.concurrency) ?? (fromFile.maxConcurrency as number),
        perKeyConcurrency: int('--per-key', flags.perKey) ?? (fromFile.perKeyConcurrency as number),
        maxQueue: int('--queue', flags.queue) ?? (fromFile.maxQueue as number),
        bodyLimitBytes: bodyLimitMb ? bodyLimitMb * 1024 * 1024 : (fromFile.bodyLimitBytes as number),
        requestTimeoutMs: int('--timeout-ms', flags.timeoutMs) ?? (fromFile.requestTimeoutMs as number),
        tokenizers: {
          ...((fromFile.tokenizers as Record<string, string>) ?? {}),
          ...tokenizers(flags.tokenizer),
        },
        logLevel: flags.logLevel as never,
        registry,
      });
      closeOnSignals(server, () => process.exit(0));
      const url = await server.listen();
      server.app.log.info({ url }, 'listening; warming executors');
      await server.warmup().catch(() => {
        // /readyz reports why; the server keeps serving so the operator can inspect it.
      });
    });
}
