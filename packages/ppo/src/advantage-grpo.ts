import type { AdvantageEstimator, AdvantageInput, AdvantageOutput } from '@stepcoder/core';
import { StepcoderError, validate } from '@stepcoder/core';
import { z } from 'zod';

export const grpoOptionsSchema = z
  .object({
    /** Added to the group's standard deviation so that a group of equal rewards gives 0, not NaN. */
    eps: z.number().min(0).default(1e-6),
    /** Divide by the group's standard deviation (GRPO); false keeps only the mean baseline. */
    scaleByStd: z.boolean().default(true),
    /**
     * Add the reward-to-go of the per-token KL penalty (no baseline) to every token's advantage.
     * Off by default: on 100+-token completions this unbaselined sum dominates the normalised
     * outcome advantage and can collapse the policy. The trainer's default for critic-free
     * estimators is the bounded k3 KL loss term instead (`kl.penalty`, see the ppo README); the
     * per-token rewards then carry no KL and this option adds nothing.
     */
    klPenaltyToGo: z.boolean().default(false),
  })
  .strict();

export type GrpoOptions = z.input<typeof grpoOptionsSchema>;

declare module '@stepcoder/core' {
  interface PluginOptions {
    'advantage:grpo': GrpoOptions;
  }
}

/**
 * Group-relative normalisation (Shao et al., 2024): Â_i = (s_i − mean(s_g)) / (std(s_g) + eps) for
 * every sequence i of group g; population std. A group of one gets 0 (nothing to compare with).
 */
export function groupNormalise(
  scores: readonly number[],
  groups: readonly number[],
  eps: number,
  scaleByStd = true,
): number[] {
  const members = new Map<number, number[]>();
  groups.forEach((g, i) => {
    const list = members.get(g);
    if (list) list.push(i);
    else members.set(g, [i]);
  });
  const out = new Array<number>(scores.length).fill(0);
  for (const idx of members.values()) {
    const mean = idx.reduce((a, i) => a + scores[i]!, 0) / idx.length;
    const std = Math.sqrt(idx.reduce((a, i) => a + (scores[i]! - mean) ** 2, 0) / idx.length);
    const denom = std + eps;
    for (const i of idx) {
      const centred = scores[i]! - mean;
      // Equal scores carry no preference: 0 even with eps = 0.
      out[i] = !scaleByStd ? centred : denom > 0 ? centred / denom : 0;
    }
  }
  return out;
}

export function createGrpoEstimator(options: GrpoOptions = {}): AdvantageEstimator {
  const o = validate(grpoOptionsSchema, options, "options of advantage 'grpo'");
  return {
    specificationVersion: 'v1',
    name: 'grpo',
    needsValues: false,
    minGroupSize: 2,
    compute(input: AdvantageInput): AdvantageOutput {
      const { rewards, groups, scores } = input;
      if (!groups || !scores || groups.length !== rewards.length || scores.length !== rewards.length) {
        throw new StepcoderError(
          'INVALID_OPTIONS',
          `advantage 'grpo' needs groups and scores for each of the ${rewards.length} sequences`,
        );
      }
      const normalised = groupNormalise(scores, groups, o.eps, o.scaleByStd);
      const advantages = rewards.map((r, i) => {
        const a = new Float32Array(r.length).fill(normalised[i]!);
        if (o.klPenaltyToGo && r.length > 0) {
          // The terminal reward is the score; everything else in `rewards` is the KL penalty.
          let toGo = 0;
          for (let t = r.length - 1; t >= 0; t--) {
            toGo += t === r.length - 1 ? r[t]! - scores[i]! : r[t]!;
            a[t] = a[t]! + toGo;
          }
        }
        return a;
      });
      return { advantages };
    },
  };
}
