import { readFileSync } from 'node:fs';
import { dirname, extname, resolve } from 'node:path';
import { registry as globalRegistry, type Registry, StepcoderError, validate } from '@stepcoder/core';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { checkConfigPlugins } from './check-plugins.js';
import { applyOverrides } from './overrides.js';
import { loadConfigPlugins, registerPluginLoaders } from './plugins.js';

/** A plugin named in config: `"line"` or `{ name: "soft", options: { floor: 0.1 } }`. */
const pluginRef = z.union(
  [
    z.string().min(1),
    z.object({ name: z.string().min(1), options: z.record(z.string(), z.unknown()).optional() }).strict(),
  ],
  { error: 'expected a plugin name ("line") or { name, options }' },
);
export type PluginRefConfig = z.infer<typeof pluginRef>;

export const configSchema = z
  .object({
    seed: z.number().int().default(1),
    /**
     * Third-party plugin packages (`'stepcoder-plugin-x'`) or files (`'./my-plugin.js'`, relative
     * to the config file), imported before any plugin is created; each registers its plugins.
     */
    plugins: z.array(z.string().min(1)).default([]),
    /** `auto` picks the best installed: tensorflow (tfjs-node[-gpu]) > wasm > cpu. */
    backend: z.enum(['auto', 'tensorflow', 'wasm', 'cpu']).default('auto'),
    /** Where checkpoints, metrics.jsonl, plots and reports go. */
    outDir: z.string().default('runs/stepcoder'),
    model: z
      .object({
        /** `gpt2` (default) or `llama` (Llama/Qwen2-shaped: RMSNorm, RoPE, SwiGLU, GQA). */
        family: z.enum(['gpt2', 'llama']).optional(),
        preset: z.enum(['tiny', 'mini', 'small']).default('tiny'),
        /** Field overrides of the preset's GPT2Config / LlamaConfig (`nLayer`, `nEmbd`, `nKvHead`, …). */
        config: z.record(z.string(), z.union([z.number(), z.boolean(), z.string()])).optional(),
        /**
         * Start from a saved checkpoint folder instead of a fresh model: ours, or a Hugging Face
         * directory whose config.json `model_type` is gpt2, llama or qwen2.
         */
        checkpoint: z.string().optional(),
        /** Hugging Face tokenizer.json; default: the built-in byte-level tokenizer. */
        tokenizer: z.string().optional(),
        /**
         * Train a byte-level BPE tokenizer of this vocabulary size on the training problems'
         * statements and canonical solutions (when no tokenizer or checkpoint is given): 3× shorter
         * sequences than bytes on templated code, so 3× faster SFT, generation and PPO on CPU.
         */
        bpe: z
          .object({ vocabSize: z.number().int().min(258).max(65536) })
          .strict()
          .optional(),
        /**
         * Train LoRA adapters instead of every weight (SFT and PPO): the base is frozen, the KL
         * reference is the same weights with the adapters off (no second copy), checkpoints are
         * PEFT adapter directories (`adapter_model.safetensors` + `adapter_config.json`) whose
         * `base_model_name_or_path` names the base: `model.checkpoint`, or `outDir/base` (written
         * once) for a fresh preset. A `model.checkpoint` that is an adapter directory continues
         * its adapters.
         */
        lora: z
          .object({
            rank: z.number().int().positive().default(8),
            /** scale = alpha / rank; default alpha = rank (scale 1). */
            alpha: z.number().positive().optional(),
            dropout: z.number().min(0).lt(1).default(0),
            /** HF module names (`q_proj`, `mlp.c_proj`), `all-linear`, or a regex; default PEFT's per model type. */
            targetModules: z.union([z.array(z.string().min(1)).min(1), z.string().min(1)]).optional(),
            useRslora: z.boolean().default(false),
          })
          .strict()
          .optional(),
      })
      .strict()
      .default({ preset: 'tiny' }),
    data: z
      .object({
        /** `mini` (the bundled dataset) or a registered dataset loader (`apps-plus`, `humaneval`, …). */
        dataset: z.string().default('mini'),
        language: z.enum(['python', 'javascript']).default('python'),
        path: z.string().optional(),
        options: z.record(z.string(), z.unknown()).optional(),
        limit: z.number().int().positive().optional(),
        /**
         * Fraction held out for evaluation (seeded split). Ignored when the dataset assigns splits
         * itself (`synthetic`: held-out problems are unseen combinations; `meta.split` on rows).
         */
        evalFraction: z.number().min(0).max(0.9).default(0.25),
        /** Train on a seeded sample of this many training problems (default all). */
        trainLimit: z.number().int().positive().optional(),
        /** Evaluate on a seeded sample of this many held-out problems (default all). */
        heldoutLimit: z.number().int().positive().optional(),
        /** Evaluate on a seeded sample of this many in-distribution test problems (default all). */
        testLimit: z.number().int().positive().optional(),
      })
      .strict()
      .default({ dataset: 'mini', language: 'python', evalFraction: 0.25 }),
    /** Default: `python` or `js` after data.language. */
    executor: pluginRef.optional(),
    reward: pluginRef.default('stepcoder'),
    mask: pluginRef.default('line'),
    curriculum: pluginRef.default('steps'),
    advantage: pluginRef.default('gae'),
    sft: z
      .object({
        epochs: z.number().int().min(0).default(8),
        batchSize: z.number().int().positive().default(8),
        lr: z.number().positive().default(3e-3),
        maxLength: z.number().int().positive().default(384),
        /** Learning-rate schedule over the SFT steps (`cosine`: 5% warm-up, decay to 10%). */
        schedule: z.enum(['constant', 'cosine']).default('constant'),
        /**
         * Mix CCCS completion examples into SFT: about `fraction` × problems extra examples, each a
         * seeded non-final stage of `curriculum` (default `steps`), loss on the remainder only. Use
         * it when RL runs with a curriculum, so CCCS prompts are not new to the model.
         */
        completionMix: z
          .object({ fraction: z.number().min(0).max(4), curriculum: pluginRef.default('steps') })
          .strict()
          .optional(),
      })
      .strict()
      .default({ epochs: 8, batchSize: 8, lr: 3e-3, maxLength: 384, schedule: 'constant' }),
    /** `steps` PPO iterations; every other key goes to @stepcoder/ppo's trainer (validated there). */
    train: z
      .object({
        steps: z.number().int().min(0).default(20),
        /**
         * Generate on a worker thread (`createGeneratorWorker`) that receives the weights after
         * every update; with `overlap` the next batch generates during this batch's update.
         */
        generatorWorker: z.boolean().default(false),
      })
      .catchall(z.unknown())
      .default({ steps: 20, generatorWorker: false }),
    eval: z
      .object({
        k: z.array(z.number().int().positive()).default([1]),
        n: z.number().int().positive().default(4),
        temperature: z.number().positive().default(0.8),
        maxNewTokens: z.number().int().positive().default(160),
        /**
         * Which problems pass@k is reported on: `both` = a training sample and the held-out set;
         * `all` adds the in-distribution test set (when the dataset has one).
         */
        on: z.enum(['train', 'heldout', 'both', 'all']).default('both'),
        /** pass@k on training problems uses a seeded sample of this many (default all). */
        trainSample: z.number().int().positive().optional(),
        /** Prompts per generate call (larger batches amortise per-op overhead on wasm). */
        batchSize: z.number().int().positive().default(8),
        /**
         * Also generate on a worker thread (`createGeneratorWorker`) holding the same weights:
         * chunks alternate between it and the main thread, so evaluation uses a second core.
         */
        generatorWorker: z.boolean().default(false),
      })
      .strict()
      .default({
        k: [1],
        n: 4,
        temperature: 0.8,
        maxNewTokens: 160,
        on: 'both',
        batchSize: 8,
        generatorWorker: false,
      }),
  })
  .strict();

export type StepcoderConfigInput = z.input<typeof configSchema>;
export type StepcoderConfig = z.output<typeof configSchema>;

/** Read a JSON or YAML config file (or none), apply `--set` overrides, validate. */
export function loadConfig(path: string | undefined, overrides: readonly string[] = []): StepcoderConfig {
  let raw: Record<string, unknown> = {};
  if (path) {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      throw new StepcoderError(
        'INVALID_CONFIG',
        `Cannot read config file ${path}: ${(err as Error).message}`,
        {
          cause: err,
        },
      );
    }
    try {
      const ext = extname(path).toLowerCase();
      raw = (ext === '.json' ? JSON.parse(text) : parseYaml(text)) ?? {};
    } catch (err) {
      throw new StepcoderError(
        'INVALID_CONFIG',
        `Config file ${path} does not parse: ${(err as Error).message}`,
        {
          cause: err,
        },
      );
    }
    if (typeof raw !== 'object' || Array.isArray(raw)) {
      throw new StepcoderError('INVALID_CONFIG', `Config file ${path} must hold an object at the top level`);
    }
  }
  return parseConfig(applyOverrides(raw, overrides), path ? `config ${path}` : 'config');
}

/**
 * What every command runs first: `loadConfig`, then the config's `plugins` imported, then every
 * plugin name and option checked (`checkConfigPlugins`), so a typo fails before any work starts.
 */
export async function loadCheckedConfig(
  path: string | undefined,
  overrides: readonly string[] = [],
  registry: Registry = globalRegistry,
): Promise<StepcoderConfig> {
  const config = loadConfig(path, overrides);
  registerPluginLoaders(registry);
  await loadConfigPlugins(config.plugins, path ? dirname(resolve(path)) : process.cwd(), registry);
  await checkConfigPlugins(config, path ? `config ${path}` : 'config', registry);
  return config;
}

export function parseConfig(input: unknown, where = 'config'): StepcoderConfig {
  return validate(configSchema, input, where, 'INVALID_CONFIG');
}
