import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Rng, StepcoderError, validate, withBos } from '@stepcoder/core';
import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import { ensureBackend } from './backend.js';
import { fromHfConfig } from './config.js';
import {
  type ModelConfig,
  type ModelFamily,
  modelFamily,
  type ResolvedModelConfig,
  resolveModelConfig,
} from './family.js';
import { type LayerCache, type LinearAdapter, oneHotFloat, positionsFromMask, valueHead } from './forward.js';
import { readGenerationConfig, readHfConfigJson, readHfWeights, writeGenerationConfig } from './hf-dir.js';
import { loadTokenizer } from './hf-tokenizer.js';
import { fromHfLlamaConfig, SUPPORTED_MODEL_TYPES } from './llama.js';
import { withTransposedWeights } from './matmul.js';
import { readSafeTensors, type SafeTensor, writeSafeTensors } from './safetensors.js';
import { logprobOf, sampleToken, scoringTemperature } from './sampling.js';
import { createByteTokenizer, type Tokenizer } from './tokenizer.js';
import { writeTokenizerFiles } from './tokenizer-transfer.js';
import { VALUE_HEAD_NAMES } from './weights.js';

export interface GenerateOptions {
  maxNewTokens: number;
  /** 0 = greedy; default 1. */
  temperature?: number;
  topK?: number;
  topP?: number;
  /** Generation stops at the first occurrence of any of these; text and tokens are cut there. */
  stop?: string[];
  seed: number;
  /** KV cache (default true). Without it every step re-runs the whole sequence. */
  useCache?: boolean;
  /** Never sample EOS, so exactly maxNewTokens are generated unless a stop sequence hits (benchmarks). */
  ignoreEos?: boolean;
}

export interface Generation {
  /** The prompt as the model saw it (left-truncated when prompt + maxNewTokens > nPositions). */
  promptIds: number[];
  /** Generated ids, EOS included when the model produced it. */
  tokenIds: number[];
  /**
   * log π_T(token | prefix) at the sampling temperature T (1 when greedy), without top-k/top-p
   * truncation: what `scoreTokens(ids, mask, { temperature: T })` gives.
   */
  logprobs: number[];
  /** Decoded completion (EOS excluded, cut at a stop sequence). */
  text: string;
  /** `[start, end)` of each generated token in `text`; EOS gets an empty span at the end. */
  tokenSpans: Array<[number, number]>;
  finishReason: 'eos' | 'stop' | 'length';
}

export const generateOptionsSchema = z
  .object({
    maxNewTokens: z.number().int().positive(),
    temperature: z.number().min(0).optional(),
    topK: z.number().int().min(0).optional(),
    topP: z.number().gt(0).max(1).optional(),
    stop: z.array(z.string().min(1)).optional(),
    seed: z.number().finite(),
    useCache: z.boolean().optional(),
    ignoreEos: z.boolean().optional(),
  })
  .strict();

export interface CreatePolicyOptions {
  /** A `GPT2Config` (the default family) or a `LlamaConfig` (`family: 'llama'`). */
  config: ModelConfig;
  tokenizer: Tokenizer;
  seed: number;
}

export interface LoadPolicyOptions {
  /** Use this tokenizer instead of the checkpoint's tokenizer.json. */
  tokenizer?: Tokenizer;
  /** Seed for the value head when the checkpoint has none (an imported HF model). Default 0. */
  seed?: number;
  /** Load as a frozen (non-trainable) policy. */
  frozen?: boolean;
}

export interface ScoreResult {
  /** Per row, length T−1: index t is log π(token t+1 | tokens ≤ t). */
  logprobs: Float32Array[];
  /** Per row, length T−1: entropy of the next-token distribution at position t. */
  entropies: Float32Array[];
  /** Per row, length T−1: value-head output at position t. */
  values: Float32Array[];
}

let policyCounter = 0;

/**
 * @internal Variables another policy holds, handed to the Policy constructor instead of weights:
 * the new policy uses them as they are (no copy). `owned: false` (a LoRA reference view) leaves
 * them alone on dispose.
 */
export class SharedVariables {
  constructor(
    readonly variables: Map<string, tf.Variable>,
    readonly owned: boolean,
  ) {}
}

function checkpointError(message: string, details: Record<string, unknown>): StepcoderError {
  return new StepcoderError('CHECKPOINT', message, { details });
}

/**
 * A decoder (GPT-2, or the Llama family with `family: 'llama'`) with a value head on the shared
 * trunk. Variables are named `<policy id>/<HF name>` because tfjs variable names are global;
 * `getWeights` and checkpoints use the bare Hugging Face names.
 */
export class Policy {
  readonly config: ResolvedModelConfig;
  readonly tokenizer: Tokenizer;
  readonly frozen: boolean;
  /** The architecture behind `config` (forward pass, parameter names, config.json). */
  readonly family: ModelFamily;
  protected readonly vars = new Map<string, tf.Variable>();
  protected readonly prefix: string;
  protected disposed = false;
  /** False for a view on another policy's variables (they are not freed on dispose). */
  private readonly ownsVariables: boolean;

  constructor(
    config: ModelConfig,
    tokenizer: Tokenizer,
    weights: Map<string, SafeTensor> | SharedVariables,
    frozen = false,
  ) {
    this.config = resolveModelConfig(config);
    this.family = modelFamily(this.config);
    this.tokenizer = tokenizer;
    this.frozen = frozen;
    if (tokenizer.vocabSize > this.config.vocabSize) {
      throw new StepcoderError(
        'INVALID_CONFIG',
        `tokenizer has ${tokenizer.vocabSize} tokens but config.vocabSize is ${this.config.vocabSize}`,
        { details: { tokenizer: tokenizer.vocabSize, vocabSize: this.config.vocabSize } },
      );
    }
    this.prefix = `stepcoder_policy_${++policyCounter}`;
    const shapes = this.family.parameterShapes();
    this.ownsVariables = !(weights instanceof SharedVariables) || weights.owned;
    if (weights instanceof SharedVariables) {
      const given = new Map(
        [...weights.variables].map(([n, v]) => [
          n,
          { shape: v.shape as number[], data: new Float32Array(0) },
        ]),
      );
      checkWeights(given, shapes, false, 'shared variables', false);
      for (const name of shapes.keys()) this.vars.set(name, weights.variables.get(name)!);
      return;
    }
    checkWeights(weights, shapes, false, 'weights');
    for (const [name, shape] of shapes) {
      const w = weights.get(name)!;
      this.vars.set(
        name,
        tf.variable(tf.tensor(w.data, shape, 'float32'), !frozen, `${this.prefix}/${name}`),
      );
    }
  }

  protected readonly lookup = (name: string): tf.Tensor => {
    const v = this.vars.get(name);
    if (!v)
      throw new StepcoderError('CHECKPOINT', `no parameter named '${name}'`, { details: { tensor: name } });
    return v;
  };

  /**
   * The adapter the forward passes add to the linear layers (none here; a LoRA policy's low-rank
   * terms). `training`: the differentiable pass of `apply` (dropout on).
   */
  protected linearAdapter(_training: boolean): LinearAdapter | undefined {
    return undefined;
  }

  /**
   * @internal Hand this policy's variables over to a new owner (applyLora, mergeLora): this
   * policy is disposed without freeing them.
   */
  detachVariables(): Map<string, tf.Variable> {
    this.assertAlive();
    if (!this.ownsVariables)
      throw new StepcoderError('INVALID_OPTIONS', `${this.prefix} is a view on another policy's weights`);
    const out = new Map(this.vars);
    this.vars.clear();
    this.disposed = true;
    return out;
  }

  protected assertAlive(): void {
    if (this.disposed) throw new StepcoderError('NOT_READY', `${this.prefix} was disposed`);
  }

  /** Variables in a fixed order (the optimizer-state order): decoder then value head. Empty when frozen. */
  trainableVariables(): tf.Variable[] {
    this.assertAlive();
    return this.frozen ? [] : [...this.vars.values()];
  }

  /** HF name of each variable, by tfjs variable name (for optimizer state). */
  variableNames(): Map<string, string> {
    return new Map([...this.vars].map(([hf, v]) => [v.name, hf]));
  }

  /**
   * Differentiable forward pass over a left-padded batch. Its backward pass uses only kernels
   * the wasm backend registers (no gather gradient).
   */
  apply(inputIds: tf.Tensor2D, attentionMask?: tf.Tensor2D): { logits: tf.Tensor3D; values: tf.Tensor2D } {
    this.assertAlive();
    return tf.tidy(() => {
      const [b, t] = inputIds.shape;
      const ids = inputIds.dtype === 'int32' ? inputIds : tf.cast(inputIds, 'int32');
      const mask = attentionMask ? tf.cast(attentionMask, 'float32') : undefined;
      const positions = mask
        ? tf.cast(tf.maximum(tf.sub(tf.cumsum(mask, 1), 1), 0), 'int32')
        : tf.tile(tf.reshape(tf.range(0, t, 1, 'int32'), [1, t]), [b, 1]);
      const adapter = this.linearAdapter(!this.frozen);
      const { hidden } = this.family.forward(this.lookup, {
        ids: ids as tf.Tensor2D,
        positions: positions as tf.Tensor2D,
        keyMask: mask as tf.Tensor2D | undefined,
        differentiable: !this.frozen,
        adapter,
      });
      return {
        logits: this.family.lmHead(this.lookup, hidden, adapter?.frozenBase) as tf.Tensor3D,
        values: valueHead(this.lookup, hidden) as tf.Tensor2D,
      };
    });
  }

  /**
   * Per-position log-prob of the next id, next-token entropy and value, for rows of equal length.
   * `temperature` scales the logits (logits / T) as sampling at T did, so that PPO ratios, KL and
   * entropy are formed on the distribution the tokens were drawn from; default 1.
   */
  async scoreTokens(
    inputIds: number[][],
    attentionMask: number[][],
    options: { temperature?: number } = {},
  ): Promise<ScoreResult> {
    this.assertAlive();
    const b = inputIds.length;
    const t = inputIds[0]?.length ?? 0;
    if (t < 2) {
      const empty = () => inputIds.map(() => new Float32Array(0));
      return { logprobs: empty(), entropies: empty(), values: empty() };
    }
    inputIds.forEach((row, i) => {
      if (row.length !== t || attentionMask[i]?.length !== t) {
        throw new StepcoderError(
          'INVALID_OPTIONS',
          `scoreTokens: row ${i} has ${row.length} ids and ${attentionMask[i]?.length} mask entries; expected ${t}`,
          { details: { row: i } },
        );
      }
    });
    const [lp, ent, val] = tf.tidy(() => {
      const ids = tf.tensor2d(inputIds, [b, t], 'int32');
      const mask = tf.tensor2d(attentionMask, [b, t], 'float32');
      const { hidden } = this.family.forward(this.lookup, {
        ids,
        positions: tf.tensor2d(positionsFromMask(attentionMask), [b, t], 'int32'),
        keyMask: mask,
        differentiable: false,
        adapter: this.linearAdapter(false),
      });
      const head = tf.slice(hidden, [0, 0, 0], [b, t - 1, this.family.hiddenSize]);
      const temperature = scoringTemperature(options.temperature);
      const logits = this.family.lmHead(this.lookup, head);
      const logp = tf.logSoftmax(temperature === 1 ? logits : tf.div(logits, temperature));
      const next = tf.slice(ids, [0, 1], [b, t - 1]);
      const picked = tf.sum(tf.mul(logp, oneHotFloat(next, this.config.vocabSize)), -1);
      const entropy = tf.neg(tf.sum(tf.mul(tf.exp(logp), logp), -1));
      return [picked, entropy, valueHead(this.lookup, head)];
    });
    const [a, e, v] = await Promise.all([lp!.data(), ent!.data(), val!.data()]);
    tf.dispose([lp!, ent!, val!]);
    const rows = (d: tf.TypedArray) =>
      Array.from({ length: b }, (_, i) => Float32Array.from(d.subarray(i * (t - 1), (i + 1) * (t - 1))));
    return { logprobs: rows(a), entropies: rows(e), values: rows(v) };
  }

  async generate(prompts: string[], options: GenerateOptions): Promise<Generation[]> {
    return withTransposedWeights(() => this.generateUncached(prompts, options));
  }

  private async generateUncached(prompts: string[], options: GenerateOptions): Promise<Generation[]> {
    this.assertAlive();
    const opts = validate(generateOptionsSchema, options, 'generate options') as GenerateOptions;
    if (opts.maxNewTokens >= this.config.nPositions) {
      throw new StepcoderError(
        'INVALID_OPTIONS',
        `generate: maxNewTokens ${opts.maxNewTokens} must be below nPositions ${this.config.nPositions}`,
        { details: { maxNewTokens: opts.maxNewTokens } },
      );
    }
    if (prompts.length === 0) return [];
    const tok = this.tokenizer;
    const maxPrompt = this.config.nPositions - opts.maxNewTokens;
    const rows = prompts.map((p) => {
      let ids = tok.encode(p);
      // Left-truncated to fit, the BOS (when the tokenizer has one) kept in front.
      const room = maxPrompt - (tok.bosTokenId === undefined ? 0 : 1);
      if (ids.length > room) ids = ids.slice(ids.length - room);
      ids = withBos(tok, ids);
      if (ids.length === 0) ids = [tok.eosTokenId];
      return {
        promptIds: ids,
        tokens: [] as number[],
        logprobs: [] as number[],
        finish: undefined as Generation['finishReason'] | undefined,
        cut: -1,
      };
    });
    const batch = rows.length;
    const promptLen = Math.max(...rows.map((r) => r.promptIds.length));
    const seqIds: number[][] = rows.map((r) => [
      ...new Array<number>(promptLen - r.promptIds.length).fill(tok.padTokenId),
      ...r.promptIds,
    ]);
    const seqMask: number[][] = rows.map((r) => [
      ...new Array<number>(promptLen - r.promptIds.length).fill(0),
      ...new Array<number>(r.promptIds.length).fill(1),
    ]);
    const rngs = rows.map((_, i) => new Rng(opts.seed).split('generate').split(i));
    const eosIds = new Set([tok.eosTokenId, ...this.family.extraEosTokenIds]);
    const sampling = {
      temperature: opts.temperature ?? 1,
      topK: opts.topK,
      topP: opts.topP,
      allowed: tok.vocabSize,
      banned: [
        ...(tok.padTokenId !== tok.eosTokenId ? [tok.padTokenId] : []),
        ...(opts.ignoreEos ? [...eosIds] : []),
      ],
    };
    const stops = opts.stop ?? [];
    const useCache = opts.useCache ?? true;
    let cache: LayerCache[] | undefined;
    const vocab = this.config.vocabSize;
    try {
      for (let step = 0; step < opts.maxNewTokens; step++) {
        const len = seqIds[0]!.length;
        const newT = useCache && cache ? 1 : len;
        const positions = positionsFromMask(seqMask).map((r) => r.slice(len - newT));
        const out = tf.tidy(() => {
          const ids = tf.tensor2d(
            seqIds.map((r) => r.slice(len - newT)),
            [batch, newT],
            'int32',
          );
          const { hidden, present } = this.family.forward(this.lookup, {
            ids,
            positions: tf.tensor2d(positions, [batch, newT], 'int32'),
            keyMask: tf.tensor2d(seqMask, [batch, len], 'float32'),
            past: useCache ? cache : undefined,
            differentiable: false,
            adapter: this.linearAdapter(false),
          });
          const hs = this.family.hiddenSize;
          const last = tf.reshape(tf.slice(hidden, [0, newT - 1, 0], [batch, 1, hs]), [batch, hs]);
          const kept = useCache ? (present ?? []).flatMap((c) => [c.k, c.v]) : [];
          return { logits: this.family.lmHead(this.lookup, last), kept };
        }) as { logits: tf.Tensor; kept: tf.Tensor4D[] };
        if (cache) tf.dispose(cache.flatMap((c) => [c.k, c.v]));
        cache = useCache
          ? Array.from({ length: out.kept.length / 2 }, (_, l) => ({
              k: out.kept[2 * l]!,
              v: out.kept[2 * l + 1]!,
            }))
          : undefined;
        const logits = (await out.logits.data()) as Float32Array;
        out.logits.dispose();
        for (let i = 0; i < batch; i++) {
          const r = rows[i]!;
          if (r.finish) {
            seqIds[i]!.push(tok.padTokenId);
            seqMask[i]!.push(0);
            continue;
          }
          const row = logits.subarray(i * vocab, (i + 1) * vocab);
          const id = sampleToken(row, sampling, rngs[i]!);
          r.tokens.push(id);
          r.logprobs.push(logprobOf(row, id, sampling.temperature));
          seqIds[i]!.push(id);
          seqMask[i]!.push(1);
          if (eosIds.has(id)) r.finish = 'eos';
          else if (stops.length > 0) {
            const text = this.decodeSpans(r.tokens).text;
            const from = Math.max(0, text.length - Math.max(...stops.map((s) => s.length)) - 8);
            let cut = -1;
            for (const s of stops) {
              const at = text.indexOf(s, from);
              if (at >= 0 && (cut < 0 || at < cut)) cut = at;
            }
            if (cut >= 0) {
              r.finish = 'stop';
              r.cut = cut;
            }
          }
        }
        if (rows.every((r) => r.finish)) break;
      }
    } finally {
      if (cache) tf.dispose(cache.flatMap((c) => [c.k, c.v]));
    }
    return rows.map((r) => {
      const hasEos = r.finish === 'eos';
      const body = hasEos ? r.tokens.slice(0, -1) : r.tokens;
      let { text, spans } = this.decodeSpans(body);
      let tokenIds = r.tokens;
      let logprobs = r.logprobs;
      if (r.finish === 'stop') {
        const keep = spans.filter(([s]) => s < r.cut).length;
        text = text.slice(0, r.cut);
        spans = spans.slice(0, keep).map(([s, e]) => [s, Math.min(e, r.cut)] as [number, number]);
        tokenIds = tokenIds.slice(0, keep);
        logprobs = logprobs.slice(0, keep);
      }
      if (hasEos) spans = [...spans, [text.length, text.length]];
      return {
        promptIds: r.promptIds,
        tokenIds,
        logprobs,
        text,
        tokenSpans: spans,
        finishReason: r.finish ?? 'length',
      };
    });
  }

  /** Decoded text and token spans, by prefix decoding when the tokenizer has no decodeWithSpans. */
  private decodeSpans(ids: readonly number[]): { text: string; spans: Array<[number, number]> } {
    if (this.tokenizer.decodeWithSpans) return this.tokenizer.decodeWithSpans(ids);
    const spans: Array<[number, number]> = [];
    let prev = '';
    for (let i = 0; i < ids.length; i++) {
      const text = this.tokenizer.decode(ids.slice(0, i + 1));
      let common = 0;
      while (common < prev.length && prev[common] === text[common]) common++;
      spans.push([common, text.length]);
      prev = text;
    }
    return { text: prev, spans };
  }

  /** Copies of every parameter under its HF name; the caller owns (and disposes) them. */
  getWeights(): Map<string, tf.Tensor> {
    this.assertAlive();
    return new Map([...this.vars].map(([name, v]) => [name, tf.clone(v)]));
  }

  /**
   * Assign parameters by HF name. Unknown names and wrong shapes fail naming the tensor; with
   * `partial: false` (default) every parameter must be given.
   */
  setWeights(weights: Map<string, tf.Tensor>, options: { partial?: boolean } = {}): void {
    this.assertAlive();
    const shapes = new Map([...this.vars].map(([n, v]) => [n, v.shape as number[]]));
    checkWeights(
      new Map([...weights].map(([n, t]) => [n, { shape: t.shape as number[], data: new Float32Array(0) }])),
      shapes,
      options.partial ?? false,
      'setWeights',
      false,
    );
    for (const [name, t] of weights)
      this.vars.get(name)!.assign(t.dtype === 'float32' ? t : tf.cast(t, 'float32'));
  }

  /** A frozen deep copy (new variables, trainable = false) for the KL reference. */
  async referenceCopy(): Promise<Policy> {
    return new Policy(this.config, this.tokenizer, await this.readWeights(), true);
  }

  async readWeights(): Promise<Map<string, SafeTensor>> {
    this.assertAlive();
    const out = new Map<string, SafeTensor>();
    for (const [name, v] of this.vars) {
      out.set(name, { shape: v.shape as number[], data: Float32Array.from(await v.data()) });
    }
    return out;
  }

  /**
   * Write a Hugging Face directory: `model.safetensors` (fp32, HF names; the CausalLM classes
   * ignore the v_head tensors), `config.json`, `generation_config.json`, `tokenizer.json`, and
   * `optimizer.safetensors` when an optimizer is given.
   */
  async save(dir: string, extras: { optimizer?: tf.Optimizer } = {}): Promise<void> {
    this.assertAlive();
    await mkdir(dir, { recursive: true });
    await writeSafeTensors(join(dir, 'model.safetensors'), await this.readWeights(), { format: 'pt' });
    await writeGenerationConfig(dir, {
      bosTokenId: this.tokenizer.bosTokenId ?? this.tokenizer.eosTokenId,
      eosTokenIds: [...new Set([this.tokenizer.eosTokenId, ...this.family.extraEosTokenIds])],
      padTokenId: this.tokenizer.padTokenId,
    });
    const config = this.family.toHfConfig({
      eos_token_id: this.tokenizer.eosTokenId,
      bos_token_id: this.tokenizer.bosTokenId ?? this.tokenizer.eosTokenId,
      pad_token_id: this.tokenizer.padTokenId,
      stepcoder: { tokenizer: this.tokenizer.kind ?? 'custom', valueHead: 'v_head.summary' },
    });
    await writeFile(join(dir, 'config.json'), `${JSON.stringify(config, null, 2)}\n`);
    await writeTokenizerFiles(dir, this.tokenizer);
    if (extras.optimizer)
      await saveOptimizerState(this, extras.optimizer, join(dir, 'optimizer.safetensors'));
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (this.ownsVariables) for (const v of this.vars.values()) v.dispose();
    this.vars.clear();
  }
}

function checkWeights(
  weights: Map<string, { shape: number[]; data: Float32Array }>,
  shapes: Map<string, number[]>,
  partial: boolean,
  where: string,
  checkData = true,
): void {
  for (const [name, w] of weights) {
    const expected = shapes.get(name);
    if (!expected) {
      throw checkpointError(`${where}: unexpected tensor '${name}' (not a parameter of this config)`, {
        tensor: name,
        where,
      });
    }
    if (expected.length !== w.shape.length || expected.some((d, i) => d !== w.shape[i])) {
      throw checkpointError(`${where}: tensor '${name}' has shape [${w.shape}], expected [${expected}]`, {
        tensor: name,
        expected,
        found: w.shape,
        where,
      });
    }
    if (checkData && w.data.length !== expected.reduce((a, b) => a * b, 1)) {
      throw checkpointError(
        `${where}: tensor '${name}' has ${w.data.length} values for shape [${expected}]`,
        {
          tensor: name,
          where,
        },
      );
    }
  }
  if (!partial) {
    for (const name of shapes.keys()) {
      if (!weights.has(name)) {
        throw checkpointError(`${where}: missing tensor '${name}'`, { tensor: name, where });
      }
    }
  }
}

const createPolicySchema = z.object({
  config: z.object({}).passthrough(),
  tokenizer: z.custom<Tokenizer>(
    (t) => typeof (t as Tokenizer)?.encode === 'function' && typeof (t as Tokenizer)?.decode === 'function',
    { message: 'expected a Tokenizer (encode/decode/encodeWithOffsets)' },
  ),
  seed: z.number().finite(),
});

export async function createPolicy(options: CreatePolicyOptions): Promise<Policy> {
  validate(createPolicySchema, options, 'createPolicy options');
  await ensureBackend();
  const config = resolveModelConfig(options.config, 'createPolicy config');
  const family = modelFamily(config);
  const rng = new Rng(options.seed).split('init');
  const weights = new Map<string, SafeTensor>();
  for (const [name, shape] of family.parameterShapes()) {
    weights.set(name, { shape, data: family.initialWeight(name, shape, rng) });
  }
  return new Policy(config, options.tokenizer, weights);
}

/** Checkpoint names as HF stores them: `h.0…`/`wte…` without the `transformer.` prefix in `gpt2`. */
function normaliseName(name: string): string | undefined {
  if (/(^|\.)attn\.(masked_)?bias$/.test(name) || name === 'lm_head.weight') return undefined;
  if (name.startsWith('v_head.') || name.startsWith('transformer.')) return name;
  return `transformer.${name}`;
}

/** Llama-family names: rotary `inv_freq` buffers and a tied `lm_head.weight` are not parameters. */
function normaliseLlamaName(name: string, tied: boolean): string | undefined {
  if (name.endsWith('.rotary_emb.inv_freq')) return undefined;
  if (tied && name === 'lm_head.weight') return undefined;
  return name;
}

/** The family a config.json's `model_type` picks; anything else is refused listing what is supported. */
function familyOfHfConfig(raw: Record<string, unknown>, where: string): 'gpt2' | 'llama' {
  const type = raw.model_type;
  if (type === undefined || type === 'gpt2') return 'gpt2';
  if (type === 'llama' || type === 'qwen2') return 'llama';
  throw new StepcoderError(
    'CHECKPOINT',
    `${where}: model_type '${String(type)}' is not supported; supported model types: ${SUPPORTED_MODEL_TYPES.join(', ')}`,
    { details: { where, modelType: type, supported: [...SUPPORTED_MODEL_TYPES] } },
  );
}

/**
 * Load a checkpoint folder: ours, or a Hugging Face model directory whose config.json
 * `model_type` is `gpt2`, `llama` or `qwen2`: `model.safetensors` or a sharded
 * `model.safetensors.index.json` (F32/F16/BF16 tensors, converted to float32), `tokenizer.json`
 * (byte-level BPE), and `generation_config.json` for the EOS ids when present. A missing value
 * head is initialised from `seed`.
 */
export async function loadPolicy(dir: string, options: LoadPolicyOptions = {}): Promise<Policy> {
  await ensureBackend();
  const configPath = join(dir, 'config.json');
  // A PEFT adapter directory (what a LoRA policy saves): its base and adapters, as a LoraPolicy.
  // Imported lazily: lora.ts builds on this module.
  if (!existsSync(configPath) && existsSync(join(dir, 'adapter_config.json'))) {
    if (options.frozen)
      throw new StepcoderError(
        'INVALID_OPTIONS',
        `loadPolicy: ${dir} is a LoRA adapter directory; a frozen load needs a model directory (save it with merge: true)`,
        { details: { dir } },
      );
    const { loadLoraPolicy } = await import('./lora.js');
    return loadLoraPolicy(dir, { tokenizer: options.tokenizer, seed: options.seed });
  }
  const raw = await readHfConfigJson(dir);
  const familyName = familyOfHfConfig(raw, configPath);
  const generation = await readGenerationConfig(dir);
  let config: ResolvedModelConfig =
    familyName === 'llama' ? fromHfLlamaConfig(raw, configPath) : fromHfConfig(raw, configPath);
  const tag = (raw.stepcoder as { tokenizer?: string } | undefined)?.tokenizer;
  const tokenizer =
    options.tokenizer ??
    (tag === 'byte'
      ? createByteTokenizer()
      : await loadTokenizer(join(dir, 'tokenizer.json'), { eosTokenId: generation?.eosTokenIds[0] }));
  if (familyName === 'llama' && generation && generation.eosTokenIds.length > 0) {
    const extra = generation.eosTokenIds.filter((id) => id !== tokenizer.eosTokenId);
    config = { ...config, eosTokenIds: extra } as ResolvedModelConfig;
  }
  const family = modelFamily(config);
  const { tensors, files } = await readHfWeights(dir);
  const where = files.length === 1 ? files[0]! : dir;
  const tied =
    familyName === 'llama' && (config as { tieWordEmbeddings?: boolean }).tieWordEmbeddings === true;
  const weights = new Map<string, SafeTensor>();
  for (const [name, t] of tensors) {
    const n = familyName === 'llama' ? normaliseLlamaName(name, tied) : normaliseName(name);
    if (n === undefined) continue;
    if (weights.has(n))
      throw checkpointError(`${where}: tensor '${name}' appears twice`, { tensor: name, file: where });
    weights.set(n, t);
  }
  const shapes = family.parameterShapes();
  const rng = new Rng(options.seed ?? 0).split('init');
  for (const name of VALUE_HEAD_NAMES) {
    if (!weights.has(name))
      weights.set(name, {
        shape: shapes.get(name)!,
        data: family.initialWeight(name, shapes.get(name)!, rng),
      });
  }
  checkWeights(weights, shapes, false, where);
  return new Policy(config, tokenizer, weights, options.frozen ?? false);
}

/** `loadPolicy` under the name of what it reads: a Hugging Face model directory. */
export const loadHfModel = loadPolicy;

/** Write `policy` as a Hugging Face model directory (`policy.save`). */
export function saveHfModel(
  policy: Policy,
  dir: string,
  extras: { optimizer?: tf.Optimizer } = {},
): Promise<void> {
  return policy.save(dir, extras);
}

/**
 * Optimizer state (Adam moments, step counter…) as safetensors, keyed by HF parameter names so it
 * loads into a policy whose tfjs variable names differ. The order, which tfjs optimizers rely
 * on, is kept in the metadata.
 */
export async function saveOptimizerState(
  policy: Policy,
  optimizer: tf.Optimizer,
  path: string,
): Promise<void> {
  const names = policy.variableNames();
  const weights = await optimizer.getWeights();
  const tensors = new Map<string, SafeTensor>();
  const order: string[] = [];
  for (const w of weights) {
    const name = renameState(w.name, names);
    order.push(name);
    tensors.set(name, { shape: w.tensor.shape as number[], data: Float32Array.from(await w.tensor.data()) });
  }
  // Adam keeps β^t accumulators outside getWeights and setWeights recomputes them with pow(),
  // which differs from the running product in the last float32 bit: save them for exact resume.
  for (const key of ACCUMULATORS) {
    const acc = (optimizer as unknown as Record<string, tf.Variable | undefined>)[key];
    if (acc) tensors.set(`__optimizer__/${key}`, { shape: [], data: Float32Array.from(await acc.data()) });
  }
  await writeSafeTensors(path, tensors, {
    order: JSON.stringify(order),
    optimizer: optimizer.getClassName(),
    iterations: String(optimizer.iterations),
  });
}

export async function loadOptimizerState(
  policy: Policy,
  optimizer: tf.Optimizer,
  path: string,
): Promise<void> {
  const { tensors, metadata } = await readSafeTensors(path);
  if (metadata.optimizer && metadata.optimizer !== optimizer.getClassName()) {
    throw checkpointError(
      `${path}: optimizer state is for ${metadata.optimizer}, not ${optimizer.getClassName()}`,
      { file: path },
    );
  }
  const back = new Map([...policy.variableNames()].map(([tfName, hf]) => [hf, tfName]));
  const order: string[] = metadata.order ? JSON.parse(metadata.order) : [...tensors.keys()];
  const named = order.map((name) => {
    const t = tensors.get(name);
    if (!t)
      throw checkpointError(`${path}: missing optimizer tensor '${name}'`, { tensor: name, file: path });
    return { name: renameState(name, back), tensor: tf.tensor(t.data, t.shape, 'float32') };
  });
  await optimizer.setWeights(named);
  tf.dispose(named.map((n) => n.tensor));
  for (const key of ACCUMULATORS) {
    const acc = (optimizer as unknown as Record<string, tf.Variable | undefined>)[key];
    const saved = tensors.get(`__optimizer__/${key}`);
    if (acc && saved) tf.tidy(() => acc.assign(tf.scalar(saved.data[0]!)));
  }
}

const ACCUMULATORS = ['accBeta1', 'accBeta2'] as const;

/** `<var>/m` → `<new var>/m` when `<var>` is a key of `names`; other names (`iter`) unchanged. */
function renameState(name: string, names: Map<string, string>): string {
  const slash = name.lastIndexOf('/');
  if (slash > 0) {
    const mapped = names.get(name.slice(0, slash));
    if (mapped) return `${mapped}${name.slice(slash)}`;
  }
  return names.get(name) ?? name;
}
