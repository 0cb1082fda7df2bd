import { StepcoderError } from './errors.js';

/**
 * A seeded, splittable pseudo-random generator (xoshiro128**, seeded through cyrb128).
 *
 * `split(label)` derives an independent child stream from the parent's *seed path*, not from how
 * many numbers the parent has drawn: `rng.split('sampling')` is the same stream whether or not an
 * unrelated component drew from `rng` first. This is what keeps ablations comparable when one
 * component changes how much randomness it consumes.
 */
export interface RngState {
  path: string;
  s: [number, number, number, number];
}

function cyrb128(str: string): [number, number, number, number] {
  let h1 = 1779033703;
  let h2 = 3144134277;
  let h3 = 1013904242;
  let h4 = 2773480762;
  for (let i = 0; i < str.length; i++) {
    const k = str.charCodeAt(i);
    h1 = h2 ^ Math.imul(h1 ^ k, 597399067);
    h2 = h3 ^ Math.imul(h2 ^ k, 2869860233);
    h3 = h4 ^ Math.imul(h3 ^ k, 951274213);
    h4 = h1 ^ Math.imul(h4 ^ k, 2716044179);
  }
  h1 = Math.imul(h3 ^ (h1 >>> 18), 597399067);
  h2 = Math.imul(h4 ^ (h2 >>> 22), 2869860233);
  h3 = Math.imul(h1 ^ (h3 >>> 17), 951274213);
  h4 = Math.imul(h2 ^ (h4 >>> 19), 2716044179);
  h1 ^= h2 ^ h3 ^ h4;
  h2 ^= h1;
  h3 ^= h1;
  h4 ^= h1;
  const s: [number, number, number, number] = [h1 >>> 0, h2 >>> 0, h3 >>> 0, h4 >>> 0];
  if ((s[0] | s[1] | s[2] | s[3]) === 0) s[0] = 1; // xoshiro must not start from all zeros
  return s;
}

export class Rng {
  private readonly s: Uint32Array;
  /** The seed path (`"42/sampling/3"`) this stream was derived from. */
  readonly path: string;
  private spareNormal: number | undefined;

  constructor(seed: number | string, path?: string) {
    if (typeof seed === 'number' && !Number.isFinite(seed)) {
      throw new StepcoderError(
        'INVALID_OPTIONS',
        `RNG seed must be a finite number or a string, got ${seed}`,
      );
    }
    this.path = path ?? String(seed);
    this.s = Uint32Array.from(cyrb128(this.path));
  }

  static fromState(state: RngState): Rng {
    const rng = new Rng(0, state.path);
    rng.s.set(state.s);
    return rng;
  }

  /** Serialisable state: `Rng.fromState(rng.state())` continues the exact same stream. */
  state(): RngState {
    return { path: this.path, s: [this.s[0]!, this.s[1]!, this.s[2]!, this.s[3]!] };
  }

  /** An independent child stream, determined only by this stream's seed path and `label`. */
  split(label: string | number): Rng {
    return new Rng(0, `${this.path}/${label}`);
  }

  /** Uniform 32-bit unsigned integer. */
  nextUint32(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1]!, 5), 7), 9) >>> 0;
    const t = s[1]! << 9;
    s[2]! ^= s[0]!;
    s[3]! ^= s[1]!;
    s[1]! ^= s[2]!;
    s[0]! ^= s[3]!;
    s[2]! ^= t;
    s[3] = rotl(s[3]!, 11);
    return result;
  }

  /** Uniform float in [0, 1) with 53 random bits. */
  next(): number {
    const hi = this.nextUint32() >>> 5; // 27 bits
    const lo = this.nextUint32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    if (!Number.isInteger(n) || n <= 0) {
      throw new StepcoderError('INVALID_OPTIONS', `Rng.int needs a positive integer bound, got ${n}`);
    }
    return Math.floor(this.next() * n);
  }

  /** Standard normal (Box–Muller). */
  normal(): number {
    if (this.spareNormal !== undefined) {
      const v = this.spareNormal;
      this.spareNormal = undefined;
      return v;
    }
    let u = 0;
    while (u === 0) u = this.next();
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spareNormal = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** Fisher–Yates shuffle of a copy. */
  shuffle<T>(items: readonly T[]): T[] {
    const out = items.slice();
    for (let i = out.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = out[i]!;
      out[i] = out[j]!;
      out[j] = tmp;
    }
    return out;
  }

  choice<T>(items: readonly T[]): T {
    if (items.length === 0) throw new StepcoderError('INVALID_OPTIONS', 'Rng.choice of an empty list');
    return items[this.int(items.length)]!;
  }

  /** `k` distinct items in random order (partial Fisher–Yates). */
  sample<T>(items: readonly T[], k: number): T[] {
    const n = Math.min(k, items.length);
    const out = items.slice();
    for (let i = 0; i < n; i++) {
      const j = i + this.int(out.length - i);
      const tmp = out[i]!;
      out[i] = out[j]!;
      out[j] = tmp;
    }
    return out.slice(0, n);
  }

  /** Index drawn with probability proportional to `weights` (non-negative, not all zero). */
  categorical(weights: ArrayLike<number>): number {
    let total = 0;
    for (let i = 0; i < weights.length; i++) total += weights[i]!;
    if (!(total > 0))
      throw new StepcoderError('INVALID_OPTIONS', 'Rng.categorical needs a positive total weight');
    let r = this.next() * total;
    for (let i = 0; i < weights.length; i++) {
      r -= weights[i]!;
      if (r < 0) return i;
    }
    return weights.length - 1;
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

export function createRng(seed: number | string): Rng {
  return new Rng(seed);
}
