import {
  registry as globalRegistry,
  type PluginKind,
  type Registry,
  type RegistryEntry,
  type StandardSchemaV1,
  StepcoderError,
  ValidationError,
  validate,
} from '@stepcoder/core';
import type { PluginRefConfig, StepcoderConfig } from './config.js';
import { builtinLoader, loadBuiltinPlugins } from './plugins.js';
import { didYouMean } from './suggest.js';

function firstLine(err: unknown): string {
  return err instanceof Error ? err.message.split('\n')[0]! : String(err);
}

/**
 * `validate`, with every issue's path prefixed by where the value sits in the config
 * (`train.batchSize`, `mask.options.floor`), so the message points at the line to fix.
 */
function validateAt(schema: StandardSchemaV1, value: unknown, where: string, prefix: string): void {
  try {
    validate(schema, value, where, 'INVALID_CONFIG');
  } catch (err) {
    if (!(err instanceof ValidationError)) throw err;
    throw new ValidationError(
      where,
      err.issues.map((i) => ({ ...i, path: i.path ? `${prefix}.${i.path}` : prefix })),
      'INVALID_CONFIG',
    );
  }
}

/** The registry entry of a plugin, loading its package; unknown names fail with the closest name. */
async function findPlugin(
  kind: PluginKind,
  name: string,
  path: string,
  where: string,
  registry: Registry,
): Promise<RegistryEntry> {
  const existing = registry.entry(kind, name);
  if (existing) return existing;
  const load = builtinLoader(kind, name);
  if (load) {
    try {
      await load();
    } catch (err) {
      throw new StepcoderError(
        'UNKNOWN_PLUGIN',
        `${where}: ${path}: loading the package that provides ${kind} '${name}' failed: ${firstLine(err)}`,
        { cause: err, details: { path, kind, name } },
      );
    }
    const loaded = registry.entry(kind, name);
    if (loaded) return loaded;
  }
  const failures = await loadBuiltinPlugins(kind);
  const known = registry.list(kind);
  throw new StepcoderError(
    'UNKNOWN_PLUGIN',
    `${where}: ${path}: no ${kind} named '${name}'.${didYouMean(name, known)} Registered ${kind}s: ${
      known.length ? known.map((n) => `'${n}'`).join(', ') : '(none)'
    }.${failures.length ? ` Not loadable here: ${failures.join('; ')}.` : ''} A plugin from another package must be listed under 'plugins' in the config.`,
    { details: { path, kind, name, available: known } },
  );
}

async function checkRef(
  kind: PluginKind,
  ref: PluginRefConfig,
  path: string,
  where: string,
  registry: Registry,
): Promise<void> {
  const { name, options } = typeof ref === 'string' ? { name: ref, options: undefined } : ref;
  const namePath = typeof ref === 'string' ? path : `${path}.name`;
  const entry = await findPlugin(kind, name, namePath, where, registry);
  if (entry.schema) validateAt(entry.schema, options ?? {}, where, `${path}.options`);
}

/**
 * Check every plugin a config names, and its options, before any work starts (no model built, no
 * dataset read): an unknown name fails with the closest registered name, a bad option with its
 * path in the config file. The trainer's own keys under `train` are checked against
 * @stepcoder/ppo's schema the same way.
 */
export async function checkConfigPlugins(
  config: StepcoderConfig,
  where = 'config',
  registry: Registry = globalRegistry,
): Promise<void> {
  const executor = config.executor ?? (config.data.language === 'python' ? 'python' : 'js');
  await checkRef('executor', executor, 'executor', where, registry);
  await checkRef('reward', config.reward, 'reward', where, registry);
  await checkRef('mask', config.mask, 'mask', where, registry);
  await checkRef('curriculum', config.curriculum, 'curriculum', where, registry);
  await checkRef('advantage', config.advantage, 'advantage', where, registry);
  if (config.data.dataset !== 'mini') {
    const entry = await findPlugin('dataset', config.data.dataset, 'data.dataset', where, registry);
    if (entry.schema) validateAt(entry.schema, config.data.options ?? {}, where, 'data.options');
  }
  const { steps: _steps, generatorWorker: _generatorWorker, ...trainer } = config.train;
  const { trainerOptionsSchema } = await import('@stepcoder/ppo/base');
  // The plugins and the seed come from the top level of the config; stand-ins satisfy the schema.
  validateAt(
    trainerOptionsSchema,
    { ...trainer, seed: config.seed, executor: 'checked above', reward: 'checked above' },
    where,
    'train',
  );
}
