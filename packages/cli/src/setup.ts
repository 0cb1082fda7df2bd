import {
  type Backend,
  type Curriculum,
  createEventBus,
  type EventBus,
  type Executor,
  registry as globalRegistry,
  type PluginKind,
  type PluginKinds,
  type Problem,
  type Registry,
  Rng,
  StepcoderError,
} from '@stepcoder/core';
import { loadMini } from '@stepcoder/datasets';
import {
  createByteTokenizer,
  createPolicy,
  GPT2_MINI,
  GPT2_SMALL,
  GPT2_TINY,
  type GPT2Config,
  initBackend,
  loadPolicy,
  loadTokenizer,
  type Policy,
} from '@stepcoder/model';
import type { PluginRefConfig, StepcoderConfig } from './config.js';
import { registerPluginLoaders } from './plugins.js';

const PRESETS: Record<StepcoderConfig['model']['preset'], GPT2Config> = {
  tiny: GPT2_TINY,
  mini: GPT2_MINI,
  small: GPT2_SMALL,
};

export interface ProblemSplit {
  train: Problem[];
  heldout: Problem[];
}

/** Create a plugin named in config through the registry (loading its package on first use). */
export function createFromConfig<K extends PluginKind>(
  kind: K,
  ref: PluginRefConfig,
  registry: Registry = globalRegistry,
): Promise<PluginKinds[K]> {
  const { name, options } = typeof ref === 'string' ? { name: ref, options: undefined } : ref;
  return registry.create(kind, name, options as never);
}

/** The backend named in config (`auto`: the best that initialises), reported on stderr. */
export async function setupBackend(config: StepcoderConfig, log = true): Promise<Backend> {
  registerPluginLoaders();
  return initBackend({ prefer: config.backend === 'auto' ? undefined : config.backend, log });
}

/** A fresh policy from the preset, or the checkpoint `model.checkpoint` (or `checkpoint`) names. */
export async function setupPolicy(
  config: StepcoderConfig,
  checkpoint = config.model.checkpoint,
): Promise<Policy> {
  const tokenizer = config.model.tokenizer ? await loadTokenizer(config.model.tokenizer) : undefined;
  if (checkpoint) return loadPolicy(checkpoint, { tokenizer, seed: config.seed });
  const modelConfig = { ...PRESETS[config.model.preset], ...(config.model.config ?? {}) } as GPT2Config;
  const tok = tokenizer ?? createByteTokenizer();
  if (!config.model.tokenizer && config.model.preset === 'small') {
    throw new StepcoderError(
      'INVALID_CONFIG',
      "model.preset 'small' has GPT-2's 50257-token vocabulary: give model.tokenizer (a GPT-2 tokenizer.json) or model.checkpoint",
    );
  }
  return createPolicy({
    config: { ...modelConfig, vocabSize: Math.max(modelConfig.vocabSize, tok.vocabSize) },
    tokenizer: tok,
    seed: config.seed,
  });
}

/** Load the configured dataset and split it (seeded) into training and held-out problems. */
export async function setupProblems(
  config: StepcoderConfig,
  registry: Registry = globalRegistry,
): Promise<ProblemSplit> {
  registerPluginLoaders(registry);
  const { data } = config;
  let problems: Problem[];
  if (data.dataset === 'mini') {
    problems = await loadMini(data.language, data.options as never).toArray();
  } else {
    if (!data.path) {
      throw new StepcoderError(
        'INVALID_CONFIG',
        `config: data.path is required for dataset '${data.dataset}'`,
        {
          details: { path: 'data.path' },
        },
      );
    }
    const loader = await registry.create('dataset', data.dataset, data.options as never);
    problems = [];
    for await (const p of loader.load(data.path)) problems.push(p);
  }
  problems = problems.filter((p) => p.canonicalSolutions.length > 0);
  if (data.limit) problems = problems.slice(0, data.limit);
  if (problems.length === 0) {
    throw new StepcoderError(
      'INVALID_CONFIG',
      `dataset '${data.dataset}' produced no problems with a canonical solution`,
    );
  }
  const shuffled = new Rng(config.seed).split('data-split').shuffle(problems);
  const nHeld = data.evalFraction > 0 ? Math.max(1, Math.round(shuffled.length * data.evalFraction)) : 0;
  const heldout = shuffled.slice(0, nHeld).sort(byId);
  const train = shuffled.slice(nHeld).sort(byId);
  return { train, heldout };
}

function byId(a: Problem, b: Problem): number {
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

export async function setupExecutor(config: StepcoderConfig): Promise<Executor> {
  registerPluginLoaders();
  return createFromConfig(
    'executor',
    config.executor ?? (config.data.language === 'python' ? 'python' : 'js'),
  );
}

export async function setupCurriculum(ref: PluginRefConfig): Promise<Curriculum> {
  registerPluginLoaders();
  return createFromConfig('curriculum', ref);
}

export function createBus(): EventBus {
  return createEventBus();
}
