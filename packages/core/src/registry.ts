import { StepcoderError } from './errors.js';
import type { Executor } from './execution.js';
import type {
  AdvantageEstimator,
  Backend,
  Curriculum,
  DatasetLoader,
  MaskStrategy,
  RewardFn,
} from './plugins.js';
import type { StandardSchemaV1 } from './standard-schema.js';
import { validate } from './validation.js';

/** What each kind of plugin produces. Extend with `declare module '@stepcoder/core'` to add kinds. */
export interface PluginKinds {
  executor: Executor;
  mask: MaskStrategy;
  curriculum: Curriculum;
  dataset: DatasetLoader;
  reward: RewardFn;
  backend: Backend;
  advantage: AdvantageEstimator;
}

export type PluginKind = keyof PluginKinds;

export const PLUGIN_KINDS: readonly PluginKind[] = [
  'executor',
  'mask',
  'curriculum',
  'dataset',
  'reward',
  'backend',
  'advantage',
];

/**
 * Options of each registered plugin, keyed `kind:name`. Plugin packages augment it so that
 * `create('executor', 'python', options)` is type-checked:
 *
 *     declare module '@stepcoder/core' {
 *       interface PluginOptions { 'executor:python': PythonExecutorOptions }
 *     }
 */
// biome-ignore lint/suspicious/noEmptyInterface: augmented by plugin packages
export interface PluginOptions {}

export type OptionsOf<K extends PluginKind, N extends string> = `${K}:${N}` extends keyof PluginOptions
  ? PluginOptions[`${K}:${N}`]
  : Record<string, unknown>;

export interface FactoryContext {
  registry: Registry;
  kind: PluginKind;
  name: string;
}

// biome-ignore lint/suspicious/noExplicitAny: factories are contravariant in their options; any lets typed factories register
export type PluginFactory<K extends PluginKind, O = any> = (
  options: O,
  context: FactoryContext,
) => PluginKinds[K] | Promise<PluginKinds[K]>;

export interface RegisterOptions {
  /** Higher first in `list` and `createBest` (tfjs: gpu > node > wasm > cpu). Default 0. */
  priority?: number;
  /** Replace an existing registration instead of failing. */
  override?: boolean;
  /** Options schema (zod, valibot or any Standard Schema); validated on every `create`. */
  schema?: StandardSchemaV1;
  description?: string;
}

export interface RegistryEntry {
  kind: PluginKind;
  name: string;
  priority: number;
  description?: string;
  schema?: StandardSchemaV1;
  factory: PluginFactory<PluginKind>;
}

/** Imports a package for its side effect of registering plugins. */
export type PluginLoader = () => Promise<unknown>;

export interface BestResult<K extends PluginKind> {
  name: string;
  plugin: PluginKinds[K];
  /** Higher-priority candidates that failed to initialise, with their reasons. */
  skipped: Array<{ name: string; reason: string }>;
}

function assertKind(kind: string): asserts kind is PluginKind {
  if (!(PLUGIN_KINDS as readonly string[]).includes(kind)) {
    throw new StepcoderError(
      'UNKNOWN_PLUGIN',
      `Unknown plugin kind '${kind}'. Kinds: ${PLUGIN_KINDS.join(', ')}.`,
      {
        details: { kind, available: [...PLUGIN_KINDS] },
      },
    );
  }
}

export class Registry {
  private readonly entries = new Map<PluginKind, Map<string, RegistryEntry>>();
  private readonly loaders = new Map<string, PluginLoader>();
  /** Loaders already run: a loader is an import, so running it twice can only re-register. */
  private readonly loaded = new Set<PluginLoader>();

  register<K extends PluginKind, N extends string>(
    kind: K,
    name: N,
    factory: PluginFactory<K, OptionsOf<K, N>>,
    options: RegisterOptions = {},
  ): void {
    assertKind(kind);
    if (typeof name !== 'string' || name.length === 0) {
      throw new StepcoderError(
        'INVALID_OPTIONS',
        `Plugin name must be a non-empty string, got ${JSON.stringify(name)}`,
      );
    }
    if (typeof factory !== 'function') {
      throw new StepcoderError('INVALID_OPTIONS', `Factory of ${kind} '${name}' must be a function`);
    }
    let byName = this.entries.get(kind);
    if (!byName) {
      byName = new Map();
      this.entries.set(kind, byName);
    }
    if (byName.has(name) && !options.override) {
      throw new StepcoderError(
        'DUPLICATE_PLUGIN',
        `A ${kind} named '${name}' is already registered. Pass { override: true } to replace it.`,
        { details: { kind, name } },
      );
    }
    byName.set(name, {
      kind,
      name,
      priority: options.priority ?? 0,
      description: options.description,
      schema: options.schema,
      factory: factory as PluginFactory<PluginKind>,
    });
  }

  unregister(kind: PluginKind, name: string): boolean {
    return this.entries.get(kind)?.delete(name) ?? false;
  }

  has(kind: PluginKind, name: string): boolean {
    return this.entries.get(kind)?.has(name) ?? false;
  }

  /** Registered names of a kind, highest priority first, then alphabetical. */
  list(kind: PluginKind): string[] {
    assertKind(kind);
    return this.entriesOf(kind).map((e) => e.name);
  }

  entry(kind: PluginKind, name: string): RegistryEntry | undefined {
    return this.entries.get(kind)?.get(name);
  }

  /**
   * Teach the registry how to load a plugin that is not registered yet, so that config can say
   * `executor: "python"` and the package is imported only when used. `name` may be `*`.
   * The loader is a closure (`() => import('@stepcoder/executor-python')`) so that the module is
   * resolved from the caller's package, not from core's.
   */
  setLoader(kind: PluginKind, name: string, loader: PluginLoader): void {
    assertKind(kind);
    this.loaders.set(`${kind}:${name}`, loader);
  }

  /** Create a plugin by name, validating `options` against its schema. */
  async create<K extends PluginKind, N extends string>(
    kind: K,
    name: N,
    options?: OptionsOf<K, N>,
  ): Promise<PluginKinds[K]> {
    assertKind(kind);
    const entry = this.entry(kind, name) ?? (await this.load(kind, name));
    return this.instantiate(entry, options) as Promise<PluginKinds[K]>;
  }

  /**
   * Try every registered plugin of a kind, highest priority first, and return the first whose
   * factory succeeds (tfjs's `ready()` for backends). Fails listing every reason.
   */
  async createBest<K extends PluginKind>(kind: K, options?: unknown): Promise<BestResult<K>> {
    assertKind(kind);
    const skipped: Array<{ name: string; reason: string }> = [];
    for (const entry of this.entriesOf(kind)) {
      try {
        const plugin = (await this.instantiate(entry, options)) as PluginKinds[K];
        return { name: entry.name, plugin, skipped };
      } catch (err) {
        skipped.push({ name: entry.name, reason: err instanceof Error ? err.message : String(err) });
      }
    }
    const reasons = skipped.map((s) => `  - ${s.name}: ${s.reason}`).join('\n');
    throw new StepcoderError(
      'UNKNOWN_PLUGIN',
      skipped.length === 0 ? `No ${kind} is registered.` : `No ${kind} could be initialised:\n${reasons}`,
      { details: { kind, skipped } },
    );
  }

  private entriesOf(kind: PluginKind): RegistryEntry[] {
    const byName = this.entries.get(kind);
    if (!byName) return [];
    return [...byName.values()].sort((a, b) => b.priority - a.priority || a.name.localeCompare(b.name));
  }

  private async load(kind: PluginKind, name: string): Promise<RegistryEntry> {
    const loader = this.loaders.get(`${kind}:${name}`) ?? this.loaders.get(`${kind}:*`);
    if (loader && !this.loaded.has(loader)) {
      this.loaded.add(loader);
      try {
        await loader();
      } catch (err) {
        throw new StepcoderError(
          'UNKNOWN_PLUGIN',
          `Loading the package that provides ${kind} '${name}' failed: ${err instanceof Error ? err.message : String(err)}`,
          { cause: err, details: { kind, name } },
        );
      }
      const entry = this.entry(kind, name);
      if (entry) return entry;
    }
    const available = this.list(kind);
    throw new StepcoderError(
      'UNKNOWN_PLUGIN',
      `No ${kind} named '${name}' is registered. Registered ${kind}s: ${
        available.length ? available.map((n) => `'${n}'`).join(', ') : '(none)'
      }.${loader ? '' : ` Did you import the package that provides it?`}`,
      { details: { kind, name, available } },
    );
  }

  private async instantiate(entry: RegistryEntry, options: unknown): Promise<unknown> {
    const value = entry.schema
      ? validate(entry.schema, options ?? {}, `options of ${entry.kind} '${entry.name}'`)
      : (options ?? {});
    return entry.factory(value, { registry: this, kind: entry.kind, name: entry.name });
  }
}

/** A fresh, empty registry: use it to isolate tests or embed several configurations side by side. */
export function createRegistry(): Registry {
  return new Registry();
}

const GLOBAL_KEY = Symbol.for('@stepcoder/core/registry');

/**
 * The process-wide default registry. It lives on `globalThis` under a well-known symbol so that
 * two copies of core in node_modules share it (as tfjs does with its engine).
 */
export function getGlobalRegistry(): Registry {
  const g = globalThis as { [GLOBAL_KEY]?: Registry };
  let registry = g[GLOBAL_KEY];
  if (!registry) {
    registry = new Registry();
    g[GLOBAL_KEY] = registry;
  }
  return registry;
}

export const registry: Registry = getGlobalRegistry();
