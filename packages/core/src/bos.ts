/**
 * `ids` with the tokenizer's BOS in front, when it has one: what a model sees of a prompt. One
 * helper for the model package's generation and the trainer's SFT examples and length checks, so
 * that both put the same ids before the prompt.
 */
export function withBos(tokenizer: { readonly bosTokenId?: number }, ids: readonly number[]): number[] {
  return tokenizer.bosTokenId === undefined ? [...ids] : [tokenizer.bosTokenId, ...ids];
}
