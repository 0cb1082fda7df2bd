/**
 * A masking strategy written outside the stepcoder packages: comments carry no execution signal,
 * so their tokens get weight `commentWeight`; code tokens keep weight 1. Line comments only
 * (`#` in Python, `//` in JS), found outside string literals. It shows the whole plugin contract:
 * a factory with a validated options schema, `specificationVersion`, typed options, registration.
 */
import { type MaskInput, type MaskStrategy, registry } from '@stepcoder/core';
import { z } from 'zod';

export const commentMaskOptions = z.object({ commentWeight: z.number().min(0).max(1).default(0) }).strict();
export type CommentMaskOptions = z.input<typeof commentMaskOptions>;

declare module '@stepcoder/core' {
  interface PluginOptions {
    'mask:no-comments': CommentMaskOptions;
  }
}

/** `[start, end)` ranges of line comments in `text`, skipping quotes. */
export function commentRanges(text: string, marker: '#' | '//'): Array<[number, number]> {
  const ranges: Array<[number, number]> = [];
  let quote: string | null = null;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote || c === '\n') quote = null;
    } else if (c === '"' || c === "'" || c === '`') {
      quote = c;
    } else if (text.startsWith(marker, i)) {
      const end = text.indexOf('\n', i);
      ranges.push([i, end === -1 ? text.length : end]);
      i = end === -1 ? text.length : end;
    }
  }
  return ranges;
}

export function createCommentMask(options: CommentMaskOptions = {}): MaskStrategy {
  const { commentWeight } = commentMaskOptions.parse(options);
  return {
    specificationVersion: 'v1',
    name: 'no-comments',
    needsCoverage: false,
    weights(input: MaskInput): Float32Array {
      const completion = input.program.slice(input.completionStart);
      const comments = commentRanges(completion, input.language === 'python' ? '#' : '//');
      const weights = new Float32Array(input.tokenSpans.length).fill(1);
      input.tokenSpans.forEach(([start, end], t) => {
        // A token lies in a comment when all of its characters do.
        if (end > start && comments.some(([a, b]) => start >= a && end <= b)) weights[t] = commentWeight;
      });
      return weights;
    },
  };
}

if (!registry.has('mask', 'no-comments')) {
  registry.register('mask', 'no-comments', (options) => createCommentMask(options), {
    schema: commentMaskOptions,
  });
}
