import { type MaskInput, StepcoderError } from '@stepcoder/core';

/** Why a mask came out the way it did; all-ones masks say which rule produced them. */
export type MaskReason =
  /** Weights computed from coverage. */
  | 'coverage'
  /** The `none` strategy: every token 1 by design. */
  | 'baseline'
  /** The program did not compile: every token carries the -1 reward. */
  | 'compile_error'
  /** The executor failed; the trainer drops the sample anyway. */
  | 'infra_error'
  /** The outcome came without coverage (coverage off, or not collected): nothing to mask by. */
  | 'no_coverage';

export interface MaskResult {
  /** One weight in [0, 1] per generated token. */
  weights: Float32Array;
  reason: MaskReason;
  /** Coverage granularity actually used (`line` when statements were asked for but absent). */
  granularity?: 'line' | 'statement';
}

/** Token offsets that do not fit the completion mean the tokenizer and the text disagree. */
export function checkInput(input: MaskInput): void {
  const { program, completionStart, tokenSpans } = input;
  if (!Number.isInteger(completionStart) || completionStart < 0 || completionStart > program.length) {
    throw new StepcoderError(
      'TOKENIZER',
      `completionStart must be an integer in [0, ${program.length}] (program length), got ${completionStart}`,
      { details: { completionStart, programLength: program.length } },
    );
  }
  const length = program.length - completionStart;
  for (let i = 0; i < tokenSpans.length; i++) {
    const [start, end] = tokenSpans[i]!;
    if (!(Number.isInteger(start) && Number.isInteger(end) && start >= 0 && start <= end && end <= length)) {
      throw new StepcoderError(
        'TOKENIZER',
        `tokenSpans[${i}] = [${start}, ${end}) does not fit the completion (length ${length}): expected integers 0 <= start <= end <= ${length}`,
        { details: { index: i, span: [start, end], completionLength: length } },
      );
    }
  }
}

export function allOnes(input: MaskInput, reason: MaskReason): MaskResult {
  return { weights: new Float32Array(input.tokenSpans.length).fill(1), reason };
}

/**
 * Token weight = the largest weight of its characters: a token that straddles a boundary (a line
 * break plus the next line's indentation, ` b` across a branch arm) takes the executed side.
 * An empty token takes the weight of the character at its position.
 */
export function tokenWeights(input: MaskInput, charWeights: Float32Array): Float32Array {
  const out = new Float32Array(input.tokenSpans.length);
  const base = input.completionStart;
  const n = charWeights.length;
  for (let i = 0; i < input.tokenSpans.length; i++) {
    const [start, end] = input.tokenSpans[i]!;
    let from = base + start;
    let to = base + end;
    if (to === from) {
      if (n === 0) {
        out[i] = 1;
        continue;
      }
      from = Math.min(from, n - 1);
      to = from + 1;
    }
    let w = 0;
    for (let p = from; p < to; p++) if (charWeights[p]! > w) w = charWeights[p]!;
    out[i] = w;
  }
  return out;
}
