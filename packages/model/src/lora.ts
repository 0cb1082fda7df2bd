import { access, mkdir, readFile, writeFile } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { Rng, StepcoderError, validate } from '@stepcoder/core';
import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import type { LinearAdapter, LowRankTerm } from './forward.js';
import { addLowRank, lowRankForward } from './layers.js';
import { loadPolicy, Policy, SharedVariables, saveOptimizerState } from './policy.js';
import { readSafeTensors, type SafeTensor, writeSafeTensors } from './safetensors.js';
import type { Tokenizer } from './tokenizer.js';
import { writeTokenizerFiles } from './tokenizer-transfer.js';
import { VALUE_HEAD_NAMES } from './weights.js';

/*
 * LoRA (Hu et al. 2021) as PEFT implements it, for RL: each targeted linear layer W gets a
 * low-rank term, y = x·Wᵀ + b + scale · (dropout(x)·Aᵀ)·Bᵀ with A [r, in], B [out, r],
 * scale = alpha / r (alpha / √r with rsLoRA). A starts as PEFT's kaiming-uniform(a = √5), i.e.
 * U(−1/√in, 1/√in), and B at zero, so the adapted model starts equal to the base. Only A, B and
 * the value head train; the base variables are frozen and shared with the reference view
 * (`referenceCopy()`), which runs the same weights with the adapters off: no second copy of the
 * base in memory. Checkpoints are PEFT's `adapter_model.safetensors` + `adapter_config.json`.
 */

/** LoRA options (PEFT's LoraConfig names in brackets). */
export interface LoraOptions {
  /** Rank r of A [r, in] and B [out, r] (`r`). Default 8. */
  rank?: number;
  /** scale = alpha / rank (`lora_alpha`). Default: the rank (scale 1). */
  alpha?: number;
  /** Dropout on the adapter's input during `apply` (training), in [0, 1) (`lora_dropout`). Default 0. */
  dropout?: number;
  /**
   * Which linear layers get adapters (`target_modules`), by Hugging Face module name: a list of
   * names matched as PEFT does (the module's full name, or its last dotted components, e.g.
   * `q_proj`, `mlp.c_proj`), `'all-linear'` (every attention and MLP projection), or another
   * string taken as a regular expression the full module name must match. Default: PEFT's per
   * model type, `['q_proj', 'v_proj']` for llama/qwen2 and `['c_attn']` for gpt2.
   */
  targetModules?: string[] | string;
  /** scale = alpha / √rank (`use_rslora`). Default false. */
  useRslora?: boolean;
  /** Seeds A's initialisation and the dropout masks. Default 0. */
  seed?: number;
  /** Written to adapter_config.json as `base_model_name_or_path` (a directory or hub id). */
  baseModelNameOrPath?: string;
}

export const loraOptionsSchema = z
  .object({
    rank: z.number().int().positive().optional(),
    alpha: z.number().positive().finite().optional(),
    dropout: z.number().min(0).lt(1).optional(),
    targetModules: z.union([z.array(z.string().min(1)).min(1), z.string().min(1)]).optional(),
    useRslora: z.boolean().optional(),
    seed: z.number().finite().optional(),
    baseModelNameOrPath: z.string().optional(),
  })
  .strict();

/** One adapted linear layer. */
export interface LoraModule {
  /** HF module name, e.g. `model.layers.0.self_attn.q_proj`. */
  module: string;
  /** Its weight's HF name (`<module>.weight`). */
  weight: string;
  inFeatures: number;
  outFeatures: number;
  /** GPT-2's Conv1D stores W as [in, out] (PEFT's `fan_in_fan_out`); nn.Linear as [out, in]. */
  fanInFanOut: boolean;
}

export interface ResolvedLoraOptions {
  rank: number;
  alpha: number;
  dropout: number;
  /** As given (or the default): a list, `'all-linear'`, or a regular expression. */
  targetModules: string[] | string;
  useRslora: boolean;
  seed: number;
  baseModelNameOrPath: string | null;
  scale: number;
  modules: LoraModule[];
}

/** PEFT's default target modules by family. */
export const DEFAULT_LORA_TARGETS: Record<'gpt2' | 'llama', string[]> = {
  gpt2: ['c_attn'],
  llama: ['q_proj', 'v_proj'],
};

function optionError(option: string, message: string, details: Record<string, unknown> = {}): StepcoderError {
  return new StepcoderError('INVALID_OPTIONS', `lora options: ${option}: ${message}`, {
    details: { path: option, ...details },
  });
}

/** Every linear layer of the attention and MLP blocks LoRA can target in `policy`. */
export function loraCandidateModules(policy: Policy): LoraModule[] {
  const fanInFanOut = policy.family.name === 'gpt2';
  const out: LoraModule[] = [];
  for (const [name, shape] of policy.family.parameterShapes()) {
    if (shape.length !== 2 || !name.endsWith('.weight')) continue;
    if (!/\.(self_attn|attn|mlp)\./.test(name)) continue;
    const module = name.slice(0, -'.weight'.length);
    out.push({
      module,
      weight: name,
      inFeatures: fanInFanOut ? shape[0]! : shape[1]!,
      outFeatures: fanInFanOut ? shape[1]! : shape[0]!,
      fanInFanOut,
    });
  }
  return out;
}

/** Validate `options` against `policy` and pick the modules (typed errors naming the option). */
export function resolveLoraOptions(policy: Policy, options: LoraOptions = {}): ResolvedLoraOptions {
  const o = validate(loraOptionsSchema, options, 'lora options') as LoraOptions;
  const rank = o.rank ?? 8;
  const alpha = o.alpha ?? rank;
  const targetModules = o.targetModules ?? DEFAULT_LORA_TARGETS[policy.family.name];
  const candidates = loraCandidateModules(policy);
  let modules: LoraModule[];
  if (typeof targetModules === 'string' && targetModules === 'all-linear') {
    modules = candidates;
  } else if (typeof targetModules === 'string') {
    let re: RegExp;
    try {
      re = new RegExp(`^(?:${targetModules})$`);
    } catch (cause) {
      throw optionError('targetModules', `'${targetModules}' is not a valid regular expression`, {
        cause: String(cause),
      });
    }
    modules = candidates.filter((m) => re.test(m.module));
    if (modules.length === 0)
      throw optionError('targetModules', `the pattern '${targetModules}' matches no linear module`, {
        available: candidates.map((m) => m.module),
      });
  } else {
    const names = [...new Set(candidates.map((m) => lastName(m.module)))];
    for (const t of targetModules) {
      if (!candidates.some((m) => matchesTarget(m.module, t))) {
        throw optionError(
          'targetModules',
          `'${t}' is not a linear module of this ${policy.family.name} model; one of ${names.join(', ')} (or 'all-linear')`,
          { target: t, available: names },
        );
      }
    }
    modules = candidates.filter((m) => targetModules.some((t) => matchesTarget(m.module, t)));
  }
  const useRslora = o.useRslora ?? false;
  return {
    rank,
    alpha,
    dropout: o.dropout ?? 0,
    targetModules,
    useRslora,
    seed: o.seed ?? 0,
    baseModelNameOrPath: o.baseModelNameOrPath ?? null,
    scale: useRslora ? alpha / Math.sqrt(rank) : alpha / rank,
    modules,
  };
}

/** PEFT's rule: the module's full name, or a suffix of it at a dot. */
function matchesTarget(module: string, target: string): boolean {
  return module === target || module.endsWith(`.${target}`);
}

function lastName(module: string): string {
  return module.slice(module.lastIndexOf('.') + 1);
}

/** PEFT's tensor names: `base_model.model.<module>.lora_A.weight` / `.lora_B.weight`. */
export function peftTensorName(module: string, which: 'A' | 'B'): string {
  return `base_model.model.${module}.lora_${which}.weight`;
}

interface Adapter {
  spec: LoraModule;
  a: tf.Variable;
  b: tf.Variable;
}

let loraCounter = 0;

/**
 * A policy whose targeted linear layers carry LoRA adapters. Behaves as a `Policy` everywhere
 * (generation, scoring, `apply`, the trainer, SFT), except:
 *
 * - `trainableVariables()`: the adapters (A then B, module by module) and the value head;
 * - `referenceCopy()`: a frozen view on the same base variables with the adapters off (no copy);
 *   it stays valid while this policy lives, and disposing it frees nothing;
 * - `getWeights()` / `setWeights()`: the trainable state only, adapters under PEFT's names and
 *   the value head (what a trainer checkpoint needs for an exact resume);
 * - `readWeights()`: the merged weights (W + scale·B·A) under the base's HF names;
 * - `save(dir)`: PEFT's adapter layout; `save(dir, { merge: true })`: a plain HF directory.
 */
export class LoraPolicy extends Policy {
  readonly lora: ResolvedLoraOptions;
  private readonly adapters = new Map<string, Adapter>();
  private adaptersDisposed = false;
  /** `referenceCopy()` is the frozen base with the adapters off: trainer checkpoints skip it. */
  readonly referenceIsFrozenBase = true;
  /** Training forwards so far; with the seed it picks each dropout mask. */
  dropoutCalls = 0;
  private enabled = true;

  /** @internal use `applyLora`. */
  constructor(base: Policy, lora: ResolvedLoraOptions) {
    const config = base.config;
    const tokenizer = base.tokenizer;
    const vars = base.detachVariables();
    super(config, tokenizer, new SharedVariables(vars, true), false);
    this.lora = lora;
    const valueHead = new Set<string>(VALUE_HEAD_NAMES);
    for (const [name, v] of this.vars) v.trainable = valueHead.has(name);
    const rng = new Rng(lora.seed).split('lora');
    const id = `stepcoder_lora_${++loraCounter}`;
    for (const spec of lora.modules) {
      const bound = 1 / Math.sqrt(spec.inFeatures);
      const stream = rng.split(spec.module);
      const a = new Float32Array(lora.rank * spec.inFeatures);
      for (let i = 0; i < a.length; i++) a[i] = (2 * stream.next() - 1) * bound;
      const variable = (init: tf.Tensor, which: 'A' | 'B') => {
        const v = tf.variable(init, true, `${id}/${peftTensorName(spec.module, which)}`);
        init.dispose(); // the variable keeps the data
        return v;
      };
      this.adapters.set(spec.module, {
        spec,
        a: variable(tf.tensor2d(a, [lora.rank, spec.inFeatures]), 'A'),
        b: variable(tf.zeros([spec.outFeatures, lora.rank]), 'B'),
      });
    }
  }

  /** The dropout-mask counter, for a trainer checkpoint (an exact resume draws the same masks). */
  checkpointState(): Record<string, unknown> {
    return { dropoutCalls: this.dropoutCalls };
  }

  restoreState(state: Record<string, unknown>): void {
    const calls = state.dropoutCalls;
    if (typeof calls !== 'number' || !Number.isInteger(calls) || calls < 0)
      throw new StepcoderError(
        'CHECKPOINT',
        `LoRA policy state: dropoutCalls must be a non-negative integer, got ${JSON.stringify(calls)}`,
        { details: { state } },
      );
    this.dropoutCalls = calls;
  }

  protected override linearAdapter(training: boolean): LinearAdapter | undefined {
    if (!this.enabled) return undefined;
    const { scale, dropout, seed } = this.lora;
    const call = training && dropout > 0 ? this.dropoutCalls++ : 0;
    const lowRank = (module: string): LowRankTerm | undefined => {
      const ad = this.adapters.get(module);
      if (!ad) return undefined;
      // Seeded per forward and module: the same mask at every call (a backward pass recomputes it).
      const drop =
        training && dropout > 0
          ? (x: tf.Tensor) => tf.dropout(x, dropout, undefined, `${seed}/${call}/${module}`)
          : undefined;
      return { a: ad.a, b: ad.b, scale, ...(drop ? { dropout: drop } : {}) };
    };
    return {
      frozenBase: true,
      lowRank,
      adapt: (module, x, y) => {
        const term = lowRank(module);
        if (!term) return y;
        // Training: one op whose backward reads x and the [N, r] activation only.
        if (training) return addLowRank(x, y, term);
        return tf.add(y, lowRankForward(x, term).value) as tf.Tensor2D;
      },
    };
  }

  /** Run `fn` with the adapters off (the base model), e.g. to compare. */
  async withAdaptersDisabled<T>(fn: () => Promise<T> | T): Promise<T> {
    this.enabled = false;
    try {
      return await fn();
    } finally {
      this.enabled = true;
    }
  }

  /** The adapted modules and their variables. */
  adapterVariables(): Array<{ module: string; a: tf.Variable; b: tf.Variable }> {
    this.assertAlive();
    return [...this.adapters.values()].map((ad) => ({ module: ad.spec.module, a: ad.a, b: ad.b }));
  }

  override trainableVariables(): tf.Variable[] {
    this.assertAlive();
    return [
      ...[...this.adapters.values()].flatMap((ad) => [ad.a, ad.b]),
      ...VALUE_HEAD_NAMES.map((n) => this.vars.get(n)!),
    ];
  }

  /** Trainable state by name: PEFT adapter names, then the value head. */
  private trainableByName(): Map<string, tf.Variable> {
    const out = new Map<string, tf.Variable>();
    for (const ad of this.adapters.values()) {
      out.set(peftTensorName(ad.spec.module, 'A'), ad.a);
      out.set(peftTensorName(ad.spec.module, 'B'), ad.b);
    }
    for (const n of VALUE_HEAD_NAMES) out.set(n, this.vars.get(n)!);
    return out;
  }

  override variableNames(): Map<string, string> {
    const names = super.variableNames();
    for (const [name, v] of this.trainableByName()) names.set(v.name, name);
    return names;
  }

  /** Copies of the trainable state (adapters under PEFT's names, value head); the caller disposes them. */
  override getWeights(): Map<string, tf.Tensor> {
    this.assertAlive();
    return new Map([...this.trainableByName()].map(([n, v]) => [n, tf.clone(v)]));
  }

  /**
   * Assign trainable state by name (as `getWeights` gives it). Base weights are frozen: naming
   * one fails, as do unknown names and wrong shapes; `partial: false` (default) needs them all.
   */
  override setWeights(weights: Map<string, tf.Tensor>, options: { partial?: boolean } = {}): void {
    this.assertAlive();
    const targets = this.trainableByName();
    for (const [name, t] of weights) {
      const v = targets.get(name);
      if (!v) {
        const frozen = this.vars.has(name);
        throw new StepcoderError(
          'CHECKPOINT',
          frozen
            ? `setWeights: '${name}' is a frozen base weight of this LoRA policy (set it on the base before applyLora, or mergeLora first)`
            : `setWeights: unexpected tensor '${name}' (not an adapter or value-head tensor of this LoRA policy)`,
          { details: { tensor: name, where: 'setWeights' } },
        );
      }
      if (!tf.util.arraysEqual(v.shape, t.shape)) {
        throw new StepcoderError(
          'CHECKPOINT',
          `setWeights: tensor '${name}' has shape [${t.shape}], expected [${v.shape}]`,
          { details: { tensor: name, expected: v.shape, found: t.shape, where: 'setWeights' } },
        );
      }
    }
    if (!options.partial) {
      for (const name of targets.keys())
        if (!weights.has(name))
          throw new StepcoderError('CHECKPOINT', `setWeights: missing tensor '${name}'`, {
            details: { tensor: name, where: 'setWeights' },
          });
    }
    for (const [name, t] of weights)
      targets.get(name)!.assign(t.dtype === 'float32' ? t : tf.cast(t, 'float32'));
  }

  /** W + scale·B·A (as W's layout) for an adapted module. */
  private mergedWeight(ad: Adapter): tf.Tensor {
    return tf.tidy(() => {
      const w = this.vars.get(ad.spec.weight)!;
      const delta = tf.mul(tf.matMul(ad.b, ad.a), this.lora.scale); // [out, in]
      return tf.add(w, ad.spec.fanInFanOut ? tf.transpose(delta) : delta);
    });
  }

  /** @internal used by mergeLora: W ← W + scale·B·A for every adapted module, in place. */
  foldAdapters(): void {
    this.assertAlive();
    for (const ad of this.adapters.values()) {
      const merged = this.mergedWeight(ad);
      this.vars.get(ad.spec.weight)!.assign(merged);
      merged.dispose();
    }
  }

  /** Every parameter under the base's HF names with the adapters folded in (W + scale·B·A). */
  override async readWeights(): Promise<Map<string, SafeTensor>> {
    this.assertAlive();
    const byWeight = new Map([...this.adapters.values()].map((ad) => [ad.spec.weight, ad]));
    const out = new Map<string, SafeTensor>();
    for (const [name, v] of this.vars) {
      const ad = byWeight.get(name);
      const t = ad ? this.mergedWeight(ad) : v;
      out.set(name, { shape: v.shape as number[], data: Float32Array.from(await t.data()) });
      if (ad) t.dispose();
    }
    return out;
  }

  /**
   * Every parameter under its HF name as the base variables hold it: the adapters NOT folded in
   * (unlike `readWeights`), the value head included. With `loraOptions()` and `readAdapters()`
   * this rebuilds the policy elsewhere (`applyLora(new Policy(config, tokenizer, base), options)`,
   * then `setWeights`), e.g. in a generator worker that then takes adapter-only updates.
   */
  async readBaseWeights(): Promise<Map<string, SafeTensor>> {
    this.assertAlive();
    const out = new Map<string, SafeTensor>();
    for (const [name, v] of this.vars)
      out.set(name, { shape: v.shape as number[], data: Float32Array.from(await v.data()) });
    return out;
  }

  /**
   * Options with which `applyLora` rebuilds this adapter structure on the same base: rank, alpha,
   * useRslora (hence the same scale), dropout, seed, baseModelNameOrPath, and `targetModules` as
   * the full names of the adapted modules, so they resolve to exactly these modules, in this
   * order, whatever list or pattern chose them.
   */
  loraOptions(): LoraOptions {
    const l = this.lora;
    return {
      rank: l.rank,
      alpha: l.alpha,
      dropout: l.dropout,
      targetModules: l.modules.map((m) => m.module),
      useRslora: l.useRslora,
      seed: l.seed,
      ...(l.baseModelNameOrPath !== null ? { baseModelNameOrPath: l.baseModelNameOrPath } : {}),
    };
  }

  /** A frozen view on the base variables with the adapters off: the KL reference, no copy. */
  override async referenceCopy(): Promise<Policy> {
    this.assertAlive();
    return new Policy(this.config, this.tokenizer, new SharedVariables(this.vars, false), true);
  }

  /** The adapters' tensors by PEFT name (no value head). */
  async readAdapters(): Promise<Map<string, SafeTensor>> {
    this.assertAlive();
    const out = new Map<string, SafeTensor>();
    for (const ad of this.adapters.values()) {
      for (const [which, v] of [
        ['A', ad.a],
        ['B', ad.b],
      ] as const)
        out.set(peftTensorName(ad.spec.module, which), {
          shape: v.shape as number[],
          data: Float32Array.from(await v.data()),
        });
    }
    return out;
  }

  /** adapter_config.json as PEFT writes it. */
  adapterConfig(): Record<string, unknown> {
    const t = this.lora.targetModules;
    const targets =
      typeof t === 'string' && t !== 'all-linear'
        ? t
        : [...new Set(this.lora.modules.map((m) => lastName(m.module)))].sort();
    return {
      alpha_pattern: {},
      auto_mapping: null,
      base_model_name_or_path: this.lora.baseModelNameOrPath,
      bias: 'none',
      fan_in_fan_out: this.family.name === 'gpt2',
      inference_mode: true,
      init_lora_weights: true,
      layers_pattern: null,
      layers_to_transform: null,
      lora_alpha: this.lora.alpha,
      lora_dropout: this.lora.dropout,
      modules_to_save: null,
      peft_type: 'LORA',
      r: this.lora.rank,
      rank_pattern: {},
      revision: null,
      target_modules: targets,
      task_type: 'CAUSAL_LM',
      use_dora: false,
      use_rslora: this.lora.useRslora,
    };
  }

  /**
   * PEFT's layout: `adapter_model.safetensors` (adapters only), `adapter_config.json`, plus
   * `value_head.safetensors` (v_head.summary.*, as TRL keeps it beside the adapter),
   * `tokenizer.json`, and `optimizer.safetensors` when an optimizer is given. With
   * `merge: true`, a plain Hugging Face model directory of the merged weights instead (what
   * `loadPolicy` reads and transformers opens), like PEFT's `merge_and_unload().save_pretrained`.
   */
  override async save(
    dir: string,
    extras: { optimizer?: tf.Optimizer; merge?: boolean } = {},
  ): Promise<void> {
    this.assertAlive();
    if (extras.merge) {
      if (extras.optimizer)
        throw new StepcoderError(
          'INVALID_OPTIONS',
          'save: optimizer state is for the adapters; not with merge',
        );
      return super.save(dir);
    }
    await mkdir(dir, { recursive: true });
    await writeSafeTensors(join(dir, ADAPTER_WEIGHTS), await this.readAdapters(), { format: 'pt' });
    await writeFile(join(dir, ADAPTER_CONFIG), `${JSON.stringify(this.adapterConfig(), null, 2)}\n`);
    const head = new Map<string, SafeTensor>();
    for (const n of VALUE_HEAD_NAMES) {
      const v = this.vars.get(n)!;
      head.set(n, { shape: v.shape as number[], data: Float32Array.from(await v.data()) });
    }
    await writeSafeTensors(join(dir, VALUE_HEAD_FILE), head, { format: 'pt' });
    await writeTokenizerFiles(dir, this.tokenizer);
    if (extras.optimizer)
      await saveOptimizerState(this, extras.optimizer, join(dir, 'optimizer.safetensors'));
  }

  private disposeAdapters(): void {
    if (this.adaptersDisposed) return;
    this.adaptersDisposed = true;
    for (const ad of this.adapters.values()) tf.dispose([ad.a, ad.b]);
    this.adapters.clear();
  }

  /** @internal used by mergeLora: the base variables leave, the adapters are freed. */
  override detachVariables(): Map<string, tf.Variable> {
    const vars = super.detachVariables();
    this.disposeAdapters();
    return vars;
  }

  override dispose(): void {
    this.disposeAdapters();
    super.dispose();
  }
}

export const ADAPTER_WEIGHTS = 'adapter_model.safetensors';
export const ADAPTER_CONFIG = 'adapter_config.json';
export const VALUE_HEAD_FILE = 'value_head.safetensors';

/**
 * Add LoRA adapters to `policy`. The returned LoraPolicy takes over the policy's variables (no
 * copy): `policy` itself is disposed and must not be used afterwards.
 */
export function applyLora(policy: Policy, options: LoraOptions = {}): LoraPolicy {
  if (policy instanceof LoraPolicy)
    throw new StepcoderError(
      'INVALID_OPTIONS',
      'applyLora: the policy already has LoRA adapters (mergeLora first)',
    );
  const resolved = resolveLoraOptions(policy, options);
  return new LoraPolicy(policy, resolved);
}

/**
 * Fold scale·B·A into the base weights, in place (PEFT's `merge_and_unload`): returns a plain,
 * fully trainable Policy owning the merged variables; `lora` is disposed. For a merged copy on
 * disk without consuming the policy, use `lora.save(dir, { merge: true })`.
 */
export function mergeLora(lora: LoraPolicy): Policy {
  lora.foldAdapters();
  const { config, tokenizer } = lora;
  const vars = lora.detachVariables();
  for (const v of vars.values()) v.trainable = true;
  return new Policy(config, tokenizer, new SharedVariables(vars, true), false);
}

const adapterConfigSchema = z
  .object({
    peft_type: z.literal('LORA'),
    task_type: z.literal('CAUSAL_LM').nullable().optional(),
    r: z.number().int().positive(),
    lora_alpha: z.number().positive(),
    lora_dropout: z.number().min(0).lt(1).optional(),
    target_modules: z.union([z.array(z.string().min(1)).min(1), z.string().min(1)]),
    bias: z.literal('none').optional(),
    use_rslora: z.boolean().optional(),
    use_dora: z.literal(false).optional(),
    base_model_name_or_path: z.string().nullable().optional(),
    rank_pattern: z.record(z.string(), z.unknown()).optional(),
    alpha_pattern: z.record(z.string(), z.unknown()).optional(),
    layers_to_transform: z.null().optional(),
  })
  .passthrough()
  .refine((c) => Object.keys(c.rank_pattern ?? {}).length === 0, {
    message: 'rank_pattern is not supported',
    path: ['rank_pattern'],
  })
  .refine((c) => Object.keys(c.alpha_pattern ?? {}).length === 0, {
    message: 'alpha_pattern is not supported',
    path: ['alpha_pattern'],
  });

/** Read a PEFT adapter_config.json as LoraOptions. */
export async function readAdapterConfig(dir: string): Promise<LoraOptions> {
  const path = join(dir, ADAPTER_CONFIG);
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(path, 'utf8'));
  } catch (cause) {
    throw new StepcoderError('CHECKPOINT', `cannot read ${path}: ${(cause as Error).message}`, {
      cause,
      details: { file: path },
    });
  }
  const c = validate(adapterConfigSchema, raw, path, 'CHECKPOINT') as z.infer<typeof adapterConfigSchema>;
  return {
    rank: c.r,
    alpha: c.lora_alpha,
    dropout: c.lora_dropout ?? 0,
    targetModules: c.target_modules,
    useRslora: c.use_rslora ?? false,
    ...(c.base_model_name_or_path ? { baseModelNameOrPath: c.base_model_name_or_path } : {}),
  };
}

/**
 * Put the adapters saved in `dir` (PEFT layout) on `base`: `applyLora(base, adapter_config.json)`
 * then the tensors of `adapter_model.safetensors`, and `value_head.safetensors` when present.
 * Missing, unexpected or misshapen tensors fail naming them. `base` is taken over (see applyLora).
 */
export async function loadLoraAdapters(
  base: Policy,
  dir: string,
  options: { seed?: number } = {},
): Promise<LoraPolicy> {
  const loraOptions = await readAdapterConfig(dir);
  const lora = applyLora(base, { ...loraOptions, seed: options.seed ?? 0 });
  try {
    const path = join(dir, ADAPTER_WEIGHTS);
    const { tensors } = await readSafeTensors(path);
    const expected = new Map(
      lora.adapterVariables().flatMap(({ module, a, b }) => [
        [peftTensorName(module, 'A'), a.shape],
        [peftTensorName(module, 'B'), b.shape],
      ]),
    );
    const weights = new Map<string, tf.Tensor>();
    try {
      for (const [name, t] of tensors) {
        // PEFT files never hold the adapter name; tolerate `.lora_A.default.weight` from older tools.
        const key = name.replace(/\.lora_([AB])\.default\.weight$/, '.lora_$1.weight');
        const shape = expected.get(key);
        if (!shape)
          throw new StepcoderError('CHECKPOINT', `${path}: unexpected tensor '${name}' (no such adapter)`, {
            details: { tensor: name, file: path },
          });
        if (!tf.util.arraysEqual(shape, t.shape))
          throw new StepcoderError(
            'CHECKPOINT',
            `${path}: tensor '${name}' has shape [${t.shape}], expected [${shape}]`,
            { details: { tensor: name, expected: shape, found: t.shape, file: path } },
          );
        weights.set(key, tf.tensor(t.data, t.shape, 'float32'));
      }
      for (const name of expected.keys())
        if (!weights.has(name))
          throw new StepcoderError('CHECKPOINT', `${path}: missing tensor '${name}'`, {
            details: { tensor: name, file: path },
          });
      const headPath = join(dir, VALUE_HEAD_FILE);
      if (await exists(headPath)) {
        for (const [name, t] of (await readSafeTensors(headPath)).tensors)
          weights.set(name, tf.tensor(t.data, t.shape, 'float32'));
      }
      lora.setWeights(weights, { partial: true });
    } finally {
      tf.dispose([...weights.values()]);
    }
    return lora;
  } catch (err) {
    lora.dispose();
    throw err;
  }
}

/**
 * Load a PEFT adapter directory with its base: `base` (a Policy, taken over, or a model
 * directory), else adapter_config.json's `base_model_name_or_path` as a directory (relative to
 * `dir` when not absolute).
 */
export async function loadLoraPolicy(
  dir: string,
  options: { base?: Policy | string; tokenizer?: Tokenizer; seed?: number } = {},
): Promise<LoraPolicy> {
  let base = options.base;
  if (base === undefined) {
    const { baseModelNameOrPath } = await readAdapterConfig(dir);
    if (!baseModelNameOrPath)
      throw new StepcoderError(
        'CHECKPOINT',
        `${join(dir, ADAPTER_CONFIG)}: no base_model_name_or_path; pass options.base (a Policy or a model directory)`,
        { details: { file: join(dir, ADAPTER_CONFIG) } },
      );
    base = isAbsolute(baseModelNameOrPath) ? baseModelNameOrPath : resolve(dir, baseModelNameOrPath);
  }
  const policy =
    typeof base === 'string'
      ? await loadPolicy(base, { tokenizer: options.tokenizer, seed: options.seed })
      : base;
  return loadLoraAdapters(policy, dir, { seed: options.seed });
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}
