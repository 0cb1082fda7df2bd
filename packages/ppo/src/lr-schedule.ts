import { z } from 'zod';

export const lrScheduleSchema = z
  .object({
    type: z.enum(['constant', 'cosine', 'linear']).default('constant'),
    /** Steps of linear warm-up from 0 to the base rate (all types). */
    warmupSteps: z.number().int().min(0).default(0),
    /** Step at which decay ends (cosine/linear); later steps keep the final rate. */
    totalSteps: z.number().int().positive().optional(),
    /** Final rate as a fraction of the base rate. */
    minRatio: z.number().min(0).max(1).default(0),
  })
  .strict();

export type LrScheduleOptions = z.input<typeof lrScheduleSchema>;

/** Learning rate at a 0-based step: warm-up (step+1)/warmup, then constant or decay to minRatio. */
export function learningRateAt(baseLr: number, step: number, options: LrScheduleOptions = {}): number {
  const o = lrScheduleSchema.parse(options);
  if (step < o.warmupSteps) return (baseLr * (step + 1)) / o.warmupSteps;
  if (o.type === 'constant' || o.totalSteps === undefined) return baseLr;
  const span = Math.max(1, o.totalSteps - o.warmupSteps);
  const progress = Math.min(1, (step - o.warmupSteps) / span);
  const decay = o.type === 'cosine' ? 0.5 * (1 + Math.cos(Math.PI * progress)) : 1 - progress;
  return baseLr * (o.minRatio + (1 - o.minRatio) * decay);
}
