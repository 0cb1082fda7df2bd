import { resolve } from 'node:path';
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
import { generateSyntheticSuite, loadMini, type SyntheticSuiteOptions } from '@stepcoder/datasets';
import {
  applyLora,
  createBpeTokenizer,
  createByteTokenizer,
  createPolicy,
  GPT2_MINI,
  GPT2_SMALL,
  GPT2_TINY,
  type GPT2Config,
  initBackend,
  LLAMA_MINI,
  LLAMA_TINY,
  type LlamaConfig,
  LoraPolicy,
  loadPolicy,
  loadTokenizer,
  type ModelConfig,
  type Policy,
  type Tokenizer,
} from '@stepcoder/model';
import type { PluginRefConfig, StepcoderConfig } from './config.js';
import { registerPluginLoaders } from './plugins.js';

const PRESETS: Record<StepcoderConfig['model']['preset'], GPT2Config> = {
  tiny: GPT2_TINY,
  mini: GPT2_MINI,
  small: GPT2_SMALL,
};

const LLAMA_PRESETS: Partial<Record<StepcoderConfig['model']['preset'], LlamaConfig>> = {
  tiny: LLAMA_TINY,
  mini: LLAMA_MINI,
};

export interface ProblemSplit {
  train: Problem[];
  /** In-distribution test problems (`meta.split: 'test'`): new instances of trained kinds. */
  test: Problem[];
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
  trainProblems: readonly Problem[] = [],
): Promise<Policy> {
  const tokenizer = config.model.tokenizer ? await loadTokenizer(config.model.tokenizer) : undefined;
  if (checkpoint) {
    const policy = await loadPolicy(checkpoint, { tokenizer, seed: config.seed });
    if (policy instanceof LoraPolicy) {
      checkLoraMatches(config, policy, checkpoint);
      return policy;
    }
    return withLora(config, policy, resolve(checkpoint));
  }
  const llama = config.model.family === 'llama';
  if (llama && !LLAMA_PRESETS[config.model.preset]) {
    throw new StepcoderError(
      'INVALID_CONFIG',
      `model.preset '${config.model.preset}' has no llama size (tiny, mini): give model.checkpoint (a Hugging Face directory) or model.config`,
      { details: { path: 'model.preset' } },
    );
  }
  const preset: ModelConfig = llama ? LLAMA_PRESETS[config.model.preset]! : PRESETS[config.model.preset];
  const modelConfig = { ...preset, ...(config.model.config ?? {}) } as ModelConfig;
  const tok = tokenizer ?? trainedTokenizer(config, trainProblems) ?? createByteTokenizer();
  if (!config.model.tokenizer && config.model.preset === 'small') {
    throw new StepcoderError(
      'INVALID_CONFIG',
      "model.preset 'small' has GPT-2's 50257-token vocabulary: give model.tokenizer (a GPT-2 tokenizer.json) or model.checkpoint",
    );
  }
  const fresh = await createPolicy({
    config: { ...modelConfig, vocabSize: Math.max(modelConfig.vocabSize, tok.vocabSize) },
    tokenizer: tok,
    seed: config.seed,
  });
  if (!config.model.lora) return fresh;
  // Adapters alone cannot be loaded back without their base: write the fresh base once, where
  // every adapter directory of this run points (the same seed writes the same weights).
  const baseDir = resolve(config.outDir, 'base');
  try {
    await fresh.save(baseDir);
  } catch (err) {
    fresh.dispose();
    throw err;
  }
  return withLora(config, fresh, baseDir);
}

/** `model.lora`: adapters on `base` (taken over), pointing at `baseDir` in adapter_config.json. */
function withLora(config: StepcoderConfig, base: Policy, baseDir: string): Policy {
  const lora = config.model.lora;
  if (!lora) return base;
  return applyLora(base, {
    rank: lora.rank,
    dropout: lora.dropout,
    useRslora: lora.useRslora,
    ...(lora.alpha !== undefined ? { alpha: lora.alpha } : {}),
    ...(lora.targetModules !== undefined ? { targetModules: lora.targetModules } : {}),
    seed: config.seed,
    baseModelNameOrPath: baseDir,
  });
}

/** An adapter checkpoint continues its own adapters: `model.lora`, when given, must describe them. */
function checkLoraMatches(config: StepcoderConfig, policy: LoraPolicy, checkpoint: string): void {
  const want = config.model.lora;
  if (!want) return;
  const have = policy.lora;
  const mismatches: string[] = [];
  if (want.rank !== have.rank) mismatches.push(`rank ${want.rank} vs ${have.rank}`);
  if (want.alpha !== undefined && want.alpha !== have.alpha)
    mismatches.push(`alpha ${want.alpha} vs ${have.alpha}`);
  if (want.useRslora !== have.useRslora) mismatches.push(`useRslora ${want.useRslora} vs ${have.useRslora}`);
  if (mismatches.length > 0)
    throw new StepcoderError(
      'INVALID_CONFIG',
      `model.lora does not match the adapters in ${checkpoint} (config vs checkpoint: ${mismatches.join(', ')}): drop model.lora to continue those adapters, or start from their base`,
      { details: { path: 'model.lora', checkpoint, mismatches } },
    );
}

/** `model.bpe`: a byte-level BPE trained on the training split only (held-out text never seen). */
function trainedTokenizer(config: StepcoderConfig, train: readonly Problem[]): Tokenizer | undefined {
  if (!config.model.bpe) return undefined;
  if (train.length === 0) {
    throw new StepcoderError(
      'INVALID_CONFIG',
      'config: model.bpe needs training problems to learn merges from',
      {
        details: { path: 'model.bpe' },
      },
    );
  }
  return createBpeTokenizer(
    train.flatMap((p) => [p.prompt, p.starterCode ?? '', ...p.canonicalSolutions]),
    config.model.bpe,
  );
}

/**
 * Load the configured dataset and split it into training, test and held-out problems: by the rows'
 * own `meta.split` when the dataset assigns one (`synthetic`: test = new instances of trained
 * combinations, held-out = unseen combinations), otherwise a seeded `evalFraction` split (no test
 * set). `trainLimit` / `testLimit` / `heldoutLimit` then keep a seeded sample.
 */
export async function setupProblems(
  config: StepcoderConfig,
  registry: Registry = globalRegistry,
): Promise<ProblemSplit> {
  registerPluginLoaders(registry);
  const { data } = config;
  let problems: Problem[];
  if (data.dataset === 'mini') {
    problems = await loadMini(data.language, data.options as never).toArray();
  } else if (data.dataset === 'synthetic') {
    const suite = generateSyntheticSuite({
      ...(data.options as Record<string, unknown>),
      language: data.language,
    } as SyntheticSuiteOptions);
    problems = [...suite.train, ...suite.test, ...suite.heldout];
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
  const rng = new Rng(config.seed).split('data-split');
  let train: Problem[];
  let heldout: Problem[];
  let test: Problem[] = [];
  if (problems.some((p) => ['train', 'test', 'heldout'].includes(p.meta?.split as string))) {
    train = problems.filter((p) => p.meta?.split !== 'heldout' && p.meta?.split !== 'test');
    test = problems.filter((p) => p.meta?.split === 'test');
    heldout = problems.filter((p) => p.meta?.split === 'heldout');
  } else {
    const shuffled = rng.shuffle(problems);
    const nHeld = data.evalFraction > 0 ? Math.max(1, Math.round(shuffled.length * data.evalFraction)) : 0;
    heldout = shuffled.slice(0, nHeld);
    train = shuffled.slice(nHeld);
  }
  const limit = (list: Problem[], n: number | undefined, stream: string) =>
    n !== undefined && n < list.length ? rng.split(stream).sample(list, n) : list;
  return {
    train: limit(train, data.trainLimit, 'train-limit').sort(byId),
    test: limit(test, data.testLimit, 'test-limit').sort(byId),
    heldout: limit(heldout, data.heldoutLimit, 'heldout-limit').sort(byId),
  };
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
