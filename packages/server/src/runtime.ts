import {
  type Curriculum,
  DEFAULT_LIMITS,
  type ExecutionLimits,
  type Executor,
  registry as globalRegistry,
  type Language,
  type MaskStrategy,
  type PluginKind,
  type PluginKinds,
  type Registry,
  type RewardFn,
  StepcoderError,
} from '@stepcoder/core';
import { DEFAULT_MAX_LIMITS, type ResolvedServerOptions } from './options.js';
import type { PluginRef } from './schemas.js';

/** What the score route needs of a tokenizer (a subset of @stepcoder/model's `Tokenizer`). */
export interface OffsetTokenizer {
  encodeWithOffsets(text: string): { ids: number[]; offsets: Array<[number, number]> };
}

/**
 * Loaders for the plugin kinds the service uses, as the CLI sets them (packages/cli/src/plugins.ts):
 * a package is imported the first time a plugin of it is created, and resolves from this package.
 */
export function registerServerLoaders(target: Registry): void {
  target.setLoader('executor', 'python', () => import('@stepcoder/executor-python'));
  target.setLoader('executor', 'js', () => import('@stepcoder/executor-js'));
  target.setLoader('reward', '*', () => import('@stepcoder/reward'));
  target.setLoader('mask', '*', () => import('@stepcoder/coverage-mask'));
  target.setLoader('curriculum', '*', () => import('@stepcoder/curriculum'));
}

/** Rewards, masks and curricula are cached per name + options; this bounds what clients can pin. */
const MAX_CACHED_PLUGINS = 64;

const LANGUAGE_EXECUTOR: Record<Language, 'python' | 'javascript'> = {
  python: 'python',
  javascript: 'javascript',
  typescript: 'javascript',
};

/**
 * The plugins behind the routes, created through the registry exactly as the trainer creates them
 * (`registry.create(kind, name, options)`), so a Python trainer gets the same verdicts, rewards and
 * masks as the TypeScript one. Executors are created once per language at start; the rest on
 * first use.
 */
export class PluginRuntime {
  readonly registry: Registry;
  readonly maxLimits: ExecutionLimits;
  private readonly executors = new Map<'python' | 'javascript', Promise<Executor>>();
  private readonly plugins = new Map<string, Promise<unknown>>();
  private readonly tokenizers = new Map<string, Promise<OffsetTokenizer>>();
  private readonly creating = new Map<PluginKind, Promise<void>>();

  constructor(private readonly options: ResolvedServerOptions) {
    this.registry = options.registry ?? globalRegistry;
    registerServerLoaders(this.registry);
    this.maxLimits = { ...DEFAULT_MAX_LIMITS, ...options.maxLimits };
  }

  /** The executor that runs `language`, created on first call. */
  executorFor(language: Language): Promise<Executor> {
    const slot = LANGUAGE_EXECUTOR[language];
    let executor = this.executors.get(slot);
    if (!executor) {
      const ref = this.options.executors[slot] ?? (slot === 'python' ? 'python' : 'js');
      // A missing executor is the operator's problem, not the client's: 503, not 400.
      executor = this.create('executor', ref).catch((err: unknown) => {
        throw new StepcoderError(
          'EXECUTOR_UNAVAILABLE',
          `the ${slot} executor is unavailable: ${err instanceof Error ? err.message : String(err)}`,
          { cause: err },
        );
      });
      // A failed creation (no python3…) is retried by the next request rather than cached.
      executor.catch(() => this.executors.delete(slot));
      this.executors.set(slot, executor);
    }
    return executor;
  }

  reward(ref: PluginRef): Promise<RewardFn> {
    return this.cached('reward', ref);
  }

  mask(ref: PluginRef): Promise<MaskStrategy> {
    return this.cached('mask', ref);
  }

  curriculum(name: string, template: string | undefined): Promise<Curriculum> {
    // Only the template comes from the client: the other curriculum options (the interpreter that
    // splits programs, a splitter object) are the operator's business.
    return this.cached('curriculum', { name, options: template === undefined ? {} : { template } });
  }

  /** A named tokenizer: `byte`, or one the operator configured (`tokenizers: { name: path }`). */
  tokenizer(name: string): Promise<OffsetTokenizer> {
    let tok = this.tokenizers.get(name);
    if (!tok) {
      const path = this.options.tokenizers[name];
      if (name !== 'byte' && path === undefined) {
        const known = ['byte', ...Object.keys(this.options.tokenizers)].map((n) => `'${n}'`).join(', ');
        return Promise.reject(
          new StepcoderError('TOKENIZER', `no tokenizer named '${name}'; this server has ${known}`, {
            details: { path: 'tokenizer' },
          }),
        );
      }
      tok = import('@stepcoder/model').then((m) =>
        path === undefined ? m.createByteTokenizer() : m.loadTokenizer(path),
      );
      tok.catch(() => this.tokenizers.delete(name));
      this.tokenizers.set(name, tok);
    }
    return tok;
  }

  /** Limits asked for, clamped to the operator's ceilings (a client cannot ask for more). */
  clampLimits(asked: Partial<ExecutionLimits> | undefined): Partial<ExecutionLimits> {
    const out: Partial<ExecutionLimits> = {};
    for (const key of Object.keys(this.maxLimits) as Array<keyof ExecutionLimits>) {
      const value = asked?.[key];
      const max = this.maxLimits[key];
      out[key] = value === undefined ? Math.min(max, DEFAULT_LIMITS[key]) : Math.min(value, max);
    }
    return out;
  }

  /** Executors created so far (for readiness and shutdown). */
  async createdExecutors(): Promise<Executor[]> {
    const settled = await Promise.allSettled(this.executors.values());
    return settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  }

  async dispose(): Promise<void> {
    const executors = await this.createdExecutors();
    this.executors.clear();
    await Promise.all(executors.map((e) => e.dispose()));
  }

  private cached<K extends PluginKind>(kind: K, ref: PluginRef): Promise<PluginKinds[K]> {
    const key = `${kind}:${JSON.stringify(ref)}`;
    let plugin = this.plugins.get(key);
    if (!plugin) {
      if (this.plugins.size >= MAX_CACHED_PLUGINS) {
        this.plugins.delete(this.plugins.keys().next().value as string);
      }
      plugin = this.create(kind, ref);
      plugin.catch(() => this.plugins.delete(key));
      this.plugins.set(key, plugin);
    }
    return plugin as Promise<PluginKinds[K]>;
  }

  /**
   * Creations of one kind run one after another: the registry runs a package loader once, and a
   * second `create` that arrives while that import is pending would otherwise find the name
   * unregistered (two score items naming the same reward at once).
   */
  private create<K extends PluginKind>(kind: K, ref: PluginRef): Promise<PluginKinds[K]> {
    const { name, options } = typeof ref === 'string' ? { name: ref, options: undefined } : ref;
    const previous = this.creating.get(kind) ?? Promise.resolve();
    const created = previous.then(() => this.registry.create(kind, name, options as never));
    this.creating.set(
      kind,
      created.then(
        () => undefined,
        () => undefined,
      ),
    );
    return created;
  }
}
