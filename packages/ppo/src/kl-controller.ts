import { StepcoderError } from '@stepcoder/core';
import { z } from 'zod';

export const klControlSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('fixed'), beta: z.number().min(0).default(0.05) }).strict(),
  z
    .object({
      type: z.literal('adaptive'),
      /** Initial coefficient. */
      beta: z.number().min(0).default(0.05),
      /** KL (nats per sequence) the controller steers towards. */
      target: z.number().positive().default(6),
      /** Samples over which a full proportional correction is applied (Ziegler et al.: 10000). */
      horizon: z.number().positive().default(10000),
    })
    .strict(),
]);

export type KlControlOptions = z.input<typeof klControlSchema>;

export interface KlControllerState {
  type: 'fixed' | 'adaptive';
  beta: number;
}

export interface KlController {
  readonly type: 'fixed' | 'adaptive';
  /** Current coefficient β of the per-token penalty −β·(log π − log π_ref). */
  readonly beta: number;
  /** Report the observed KL (mean per-sequence sum of log π − log π_ref) over `nSteps` samples. */
  update(observedKl: number, nSteps: number): void;
  state(): KlControllerState;
  restore(state: KlControllerState): void;
}

function checkState(type: string, state: KlControllerState): void {
  if (state?.type !== type || !Number.isFinite(state.beta)) {
    throw new StepcoderError(
      'CHECKPOINT',
      `KL controller state must be {type: '${type}', beta: number}, got ${JSON.stringify(state)}`,
    );
  }
}

export function createFixedKlController(beta: number): KlController {
  let b = beta;
  return {
    type: 'fixed',
    get beta() {
      return b;
    },
    update() {},
    state: () => ({ type: 'fixed', beta: b }),
    restore(state) {
      checkState('fixed', state);
      b = state.beta;
    },
  };
}

/**
 * Ziegler et al. (2019), "Fine-Tuning Language Models from Human Preferences":
 *   e = clip(KL / target − 1, −0.2, 0.2),   β ← β · (1 + e · nSteps / horizon).
 * KL above target raises β (stronger pull towards the reference), below target lowers it.
 */
export function createAdaptiveKlController(beta: number, target: number, horizon: number): KlController {
  let b = beta;
  return {
    type: 'adaptive',
    get beta() {
      return b;
    },
    update(observedKl, nSteps) {
      if (!Number.isFinite(observedKl)) return;
      const error = Math.min(0.2, Math.max(-0.2, observedKl / target - 1));
      b *= 1 + (error * nSteps) / horizon;
    },
    state: () => ({ type: 'adaptive', beta: b }),
    restore(state) {
      checkState('adaptive', state);
      b = state.beta;
    },
  };
}

export function createKlController(options: KlControlOptions): KlController {
  const o = klControlSchema.parse(options);
  return o.type === 'fixed'
    ? createFixedKlController(o.beta)
    : createAdaptiveKlController(o.beta, o.target, o.horizon);
}
