import { type Coverage, LineIndex, type MaskInput, type MaskStrategy, validate } from '@stepcoder/core';
import { z } from 'zod';
import { allOnes, checkInput, type MaskResult, tokenWeights } from './mask-input.js';
import { charWeights, type Unit } from './ownership.js';
import { lineUnits, rangeOffsets, statementUnits } from './units.js';

/** A MaskStrategy that can also say why its mask is what it is (for stats and logs). */
export interface CoverageMaskStrategy extends MaskStrategy {
  /** `weights` plus the rule that produced them. */
  explain(input: MaskInput): MaskResult;
}

type Granularity = 'line' | 'statement';

interface Plan {
  name: string;
  granularity: Granularity;
  branches: boolean;
  weightOfHits: (hits: number) => number;
}

const binary = (hits: number): number => (hits > 0 ? 1 : 0);

function buildUnits(
  coverage: Coverage,
  index: LineIndex,
  plan: Plan,
): { units: Unit[]; granularity: Granularity } {
  if (plan.granularity === 'statement' && coverage.statements) {
    return {
      units: statementUnits(coverage.statements, index, coverage.executableLines, plan.weightOfHits),
      granularity: 'statement',
    };
  }
  const units = lineUnits(coverage, index, (executed, hits) =>
    // Without per-line hit counts an executed line counts as fully covered.
    executed ? (hits === undefined ? 1 : plan.weightOfHits(hits)) : plan.weightOfHits(0),
  );
  return { units, granularity: 'line' };
}

/**
 * Untaken arms of partially covered conditionals get weight 0. An arm is left alone when it has
 * no range (implicit `else`), shares its range with another arm, contains or partly overlaps a
 * taken arm, or holds the start of an executed line or statement: such a range is not the arm's
 * own code (istanbul gives an `if`'s first arm the location of the whole statement, condition
 * included), and masking it would zero code that ran. An untaken arm inside a taken arm's range
 * is masked (istanbul's `else` block inside the whole-`if` location of the first arm).
 */
function maskUntakenArms(weights: Float32Array, coverage: Coverage, index: LineIndex): void {
  const executedStarts: number[] = [];
  for (const line of coverage.lines) {
    const [s, e] = index.lineRange(line);
    let p = s;
    while (p < e && /\s/.test(index.text[p]!)) p++;
    executedStarts.push(p);
  }
  for (const st of coverage.statements ?? []) if (st.hits > 0) executedStarts.push(index.offsetOf(st.start));
  for (const branch of coverage.branches ?? []) {
    const taken = branch.arms.filter((a) => a.hits > 0);
    if (taken.length === 0 || taken.length === branch.arms.length) continue;
    const takenRanges = taken.flatMap((a) => (a.range ? [rangeOffsets(index, a.range)] : []));
    const all = branch.arms.map((a) => (a.range ? rangeOffsets(index, a.range) : undefined));
    branch.arms.forEach((arm, i) => {
      const r = all[i];
      if (arm.hits > 0 || !r || r[1] <= r[0]) return;
      if (all.some((o, j) => j !== i && o && o[0] === r[0] && o[1] === r[1])) return;
      if (takenRanges.some(([s, e]) => s < r[1] && r[0] < e && !(s <= r[0] && r[1] <= e))) return;
      if (executedStarts.some((p) => r[0] <= p && p < r[1])) return;
      weights.fill(0, Math.max(0, r[0]), Math.min(weights.length, r[1]));
    });
  }
}

function createStrategy(plan: Plan): CoverageMaskStrategy {
  const explain = (input: MaskInput): MaskResult => {
    checkInput(input);
    if (input.outcome === 'compile_error') return allOnes(input, 'compile_error');
    if (input.outcome === 'infra_error') return allOnes(input, 'infra_error');
    const coverage = input.coverage;
    if (!coverage) return allOnes(input, 'no_coverage');
    const index = new LineIndex(input.program);
    const { units, granularity } = buildUnits(coverage, index, plan);
    const chars = charWeights(input.program, index, input.language, units);
    if (plan.branches && coverage.branches) maskUntakenArms(chars, coverage, index);
    return { weights: tokenWeights(input, chars), reason: 'coverage', granularity };
  };
  return {
    specificationVersion: 'v1',
    name: plan.name,
    needsCoverage: true,
    explain,
    weights: (input) => explain(input).weights,
  };
}

export const noneMaskSchema = z.strictObject({});
export const lineMaskSchema = z.strictObject({});
export const statementMaskSchema = z.strictObject({});
export const branchMaskSchema = z.strictObject({});
export const softMaskSchema = z.strictObject({
  /** Weight of code no test executed. */
  floor: z.number().min(0).max(1).default(0.1),
  /** Hit count (summed over tests) at which a token gets full weight. */
  saturation: z.number().positive().default(3),
  /** Hit counts per statement (falls back to lines when the executor gives no statements) or per line. */
  granularity: z.enum(['line', 'statement']).default('statement'),
});

export type NoneMaskOptions = z.input<typeof noneMaskSchema>;
export type LineMaskOptions = z.input<typeof lineMaskSchema>;
export type StatementMaskOptions = z.input<typeof statementMaskSchema>;
export type BranchMaskOptions = z.input<typeof branchMaskSchema>;
export type SoftMaskOptions = z.input<typeof softMaskSchema>;

/** Every token weight 1: plain PPO, the ablation baseline. Needs no coverage. */
export function createNoneMask(options: NoneMaskOptions = {}): CoverageMaskStrategy {
  validate(noneMaskSchema, options, "options of mask 'none'");
  const explain = (input: MaskInput): MaskResult => {
    checkInput(input);
    return allOnes(input, 'baseline');
  };
  return {
    specificationVersion: 'v1',
    name: 'none',
    needsCoverage: false,
    explain,
    weights: (input) => explain(input).weights,
  };
}

/** FGO as published: tokens on lines no test executed get weight 0. */
export function createLineMask(options: LineMaskOptions = {}): CoverageMaskStrategy {
  validate(lineMaskSchema, options, "options of mask 'line'");
  return createStrategy({ name: 'line', granularity: 'line', branches: false, weightOfHits: binary });
}

/** Like `line`, by statement source ranges (several statements per line, multi-line statements). */
export function createStatementMask(options: StatementMaskOptions = {}): CoverageMaskStrategy {
  validate(statementMaskSchema, options, "options of mask 'statement'");
  return createStrategy({
    name: 'statement',
    granularity: 'statement',
    branches: false,
    weightOfHits: binary,
  });
}

/** `statement`, plus weight 0 on the untaken arm of partially covered conditionals. */
export function createBranchMask(options: BranchMaskOptions = {}): CoverageMaskStrategy {
  validate(branchMaskSchema, options, "options of mask 'branch'");
  return createStrategy({ name: 'branch', granularity: 'statement', branches: true, weightOfHits: binary });
}

/** `w = floor + (1 - floor) * min(1, hits / saturation)`, hits summed over all tests. */
export function createSoftMask(options: SoftMaskOptions = {}): CoverageMaskStrategy {
  const { floor, saturation, granularity } = validate(softMaskSchema, options, "options of mask 'soft'");
  return createStrategy({
    name: 'soft',
    granularity,
    branches: false,
    weightOfHits: (hits) => floor + (1 - floor) * Math.min(1, Math.max(0, hits) / saturation),
  });
}
