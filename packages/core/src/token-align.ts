import type { CurriculumPrompt } from './plugins.js';

/**
 * What alignment needs of a tokenizer: `encode`, and optionally token offsets (the model
 * package's tokenizers have both; any `{ encode }` works, more slowly).
 */
export interface AlignTokenizer {
  encode(text: string): number[];
  encodeWithOffsets?(text: string): { ids: number[]; offsets: Array<[number, number]> };
}

export interface AlignedPrompt {
  prompt: CurriculumPrompt;
  /**
   * `aligned`: the prompt already tokenized as the joint text does; `moved`: the cut moved back by
   * `moved` characters to a position where it does; `unaligned`: no such position within reach
   * (the prompt is returned unchanged).
   */
  status: 'aligned' | 'moved' | 'unaligned';
  /** Characters moved from the given prefix (or the header's trailing newlines) into the target. */
  moved: number;
}

/** How far back (characters) the scan without offsets looks for a token-safe cut. */
const SCAN_BACK = 64;

function equalIds(a: readonly number[], b: readonly number[], c: readonly number[]): boolean {
  if (a.length + b.length !== c.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== c[i]) return false;
  for (let i = 0; i < b.length; i++) if (b[i] !== c[a.length + i]) return false;
  return true;
}

/**
 * Move a curriculum prompt's cut so that `encode(prompt) ++ encode(target) == encode(prompt +
 * target)`: the model is conditioned on exactly the tokens SFT and the tokenizer's own merges
 * produce for the whole program, and the canonical remainder is a token sequence it has seen.
 *
 * Why this and not a fixed text rule: split points are line starts, so every CCCS prefix ends in
 * `"\n"`, while a byte-level BPE merges the newline with the next line's indentation (`"\n    "`);
 * the prompt then ends on a token the model never saw there. No tokenizer-free cut fixes that for
 * every tokenizer — cutting before the newline is safe under GPT-2's pre-tokenizer but not under
 * Llama-3/Qwen2's, which glue `"):\n"` into one piece — and token healing needs constrained decoding
 * in every generator. So the cut is found with the policy's own tokenizer: the candidates are the
 * starts of the joint encoding's tokens at or before the cut (the token that straddles it goes to
 * the target), nearest first, each verified by encoding both halves. The cut may move into the
 * header only over trailing newlines (the program then begins with a blank line), never into the
 * statement. `completionStart` stays `givenPrefix.length`, so coverage and FGO masks still line up
 * with the program that runs (`givenPrefix + completion`).
 */
export function alignPromptToTokens(cp: CurriculumPrompt, tokenizer: AlignTokenizer): AlignedPrompt {
  const joint = cp.prompt + cp.target;
  const cut = cp.prompt.length;
  const jointIds = tokenizer.encode(joint);
  if (cp.target === '' || equalIds(tokenizer.encode(cp.prompt), tokenizer.encode(cp.target), jointIds)) {
    return { prompt: cp, status: 'aligned', moved: 0 };
  }
  const headerLength = cut - cp.givenPrefix.length;
  // The lowest cut allowed: the header's trailing newlines may move, its text may not.
  let floor = headerLength;
  while (floor > 0 && (cp.prompt[floor - 1] === '\n' || cp.prompt[floor - 1] === '\r')) floor--;
  for (const c of candidateCuts(joint, cut, floor, tokenizer)) {
    const head = joint.slice(0, c);
    const tail = joint.slice(c);
    if (!equalIds(tokenizer.encode(head), tokenizer.encode(tail), jointIds)) continue;
    const givenPrefix = c >= headerLength ? cp.givenPrefix.slice(0, c - headerLength) : '';
    return {
      prompt: { ...cp, prompt: head, givenPrefix, target: tail, completionStart: givenPrefix.length },
      status: 'moved',
      moved: cut - c,
    };
  }
  return { prompt: cp, status: 'unaligned', moved: 0 };
}

/** Cut positions below `cut` and at or above `floor`, nearest first. */
function candidateCuts(joint: string, cut: number, floor: number, tokenizer: AlignTokenizer): number[] {
  if (tokenizer.encodeWithOffsets) {
    const { offsets } = tokenizer.encodeWithOffsets(joint);
    const starts = new Set<number>();
    for (const [start] of offsets) if (start < cut && start >= floor) starts.add(start);
    return [...starts].sort((a, b) => b - a);
  }
  const out: number[] = [];
  for (let c = cut - 1; c >= Math.max(floor, cut - SCAN_BACK); c--) out.push(c);
  return out;
}

/**
 * `alignPromptToTokens` with a cache keyed by the prompt and target text: a trainer asks for the
 * same stage of the same problem many times.
 */
export function createPromptAligner(tokenizer: AlignTokenizer, maxEntries = 50_000) {
  const cache = new Map<string, AlignedPrompt>();
  return (cp: CurriculumPrompt): AlignedPrompt => {
    // The length makes the key unambiguous even when the texts hold NUL.
    const key = `${cp.prompt.length}:${cp.prompt}\u0000${cp.target}`;
    const hit = cache.get(key);
    if (hit) return { ...hit, prompt: { ...hit.prompt, stage: cp.stage, stageCount: cp.stageCount } };
    const aligned = alignPromptToTokens(cp, tokenizer);
    if (cache.size >= maxEntries) cache.clear();
    cache.set(key, aligned);
    return aligned;
  };
}
