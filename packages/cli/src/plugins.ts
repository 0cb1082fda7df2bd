import { createRequire } from 'node:module';
import { isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  registry as globalRegistry,
  type PluginKind,
  type PluginLoader,
  type Registry,
  StepcoderError,
} from '@stepcoder/core';

/**
 * Which package provides which plugins (`*`: every plugin of that kind). Config names plugins by
 * kind and name; their packages are imported only when a config uses them (a JS-only run never
 * starts python3, a Python run never compiles isolated-vm code). Loaders are closures so that the
 * packages resolve from the CLI's dependencies.
 */
const BUILTIN_LOADERS: ReadonlyArray<readonly [PluginKind, string, PluginLoader]> = [
  ['executor', 'python', () => import('@stepcoder/executor-python')],
  ['executor', 'js', () => import('@stepcoder/executor-js')],
  ['executor', 'queue', () => import('@stepcoder/executor-queue')],
  ['reward', '*', () => import('@stepcoder/reward')],
  ['mask', '*', () => import('@stepcoder/coverage-mask')],
  ['curriculum', '*', () => import('@stepcoder/curriculum')],
  ['dataset', '*', () => import('@stepcoder/datasets')],
  ['advantage', '*', () => import('@stepcoder/ppo')],
  ['backend', '*', () => import('@stepcoder/model')],
];

export function registerPluginLoaders(target: Registry = globalRegistry): void {
  for (const [kind, name, load] of BUILTIN_LOADERS) target.setLoader(kind, name, load);
}

/**
 * Import every built-in package that provides plugins of `kind`, so that `registry.list(kind)`
 * shows all of them (lazy loading otherwise leaves it empty). Returns the packages that failed
 * to load, with why, instead of throwing: listing names must not hide the real error.
 */
export async function loadBuiltinPlugins(kind: PluginKind): Promise<string[]> {
  const failures: string[] = [];
  for (const [k, name, load] of BUILTIN_LOADERS) {
    if (k !== kind) continue;
    try {
      await load();
    } catch (err) {
      failures.push(`${kind} '${name}': ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
    }
  }
  return failures;
}

/** The loader of the named built-in plugin (or of its kind's `*` package), if any. */
export function builtinLoader(kind: PluginKind, name: string): PluginLoader | undefined {
  return (
    BUILTIN_LOADERS.find(([k, n]) => k === kind && n === name)?.[2] ??
    BUILTIN_LOADERS.find(([k, n]) => k === kind && n === '*')?.[2]
  );
}

function isPathSpec(spec: string): boolean {
  return spec.startsWith('.') || isAbsolute(spec);
}

/**
 * Where `spec` lives, seen from `baseDir` (the config file's folder): a path (`./my-plugin.js`)
 * relative to it, a package name as Node resolves it from there (the user's node_modules, or the
 * package itself through its `exports`). `undefined` for a package not installed there.
 */
function resolvePluginSpec(spec: string, baseDir: string): string | undefined {
  if (isPathSpec(spec)) return resolve(baseDir, spec);
  try {
    return createRequire(join(baseDir, 'package.json')).resolve(spec);
  } catch {
    return undefined;
  }
}

/**
 * Import the third-party plugin packages a config lists under `plugins`, before any plugin is
 * created. A package registers its plugins when imported (the same contract as every @stepcoder
 * package); one that instead exports a `register(registry)` function has it called.
 */
export async function loadConfigPlugins(
  specs: readonly string[],
  baseDir: string,
  target: Registry = globalRegistry,
): Promise<void> {
  for (const [i, spec] of specs.entries()) {
    const resolved = resolvePluginSpec(spec, baseDir);
    let mod: { register?: unknown };
    try {
      // A package not found from the config's folder may still be one the CLI itself can import.
      mod = await import(resolved ? pathToFileURL(resolved).href : spec);
    } catch (err) {
      throw new StepcoderError(
        'INVALID_CONFIG',
        `config plugins[${i}]: cannot load '${spec}'${resolved ? ` (${resolved})` : ` from ${baseDir}`}: ${
          err instanceof Error ? err.message.split('\n')[0] : String(err)
        }`,
        { cause: err, details: { path: `plugins[${i}]`, spec, resolved } },
      );
    }
    if (typeof mod.register === 'function') await mod.register(target);
  }
}
