import { fileURLToPath } from 'node:url';
import type { Language } from '@stepcoder/core';
import { createJsonlLoader } from './formats/jsonl.js';
import type { CommonOptionsInput } from './options.js';
import type { DatasetStream } from './pipeline.js';

const MINI_FILES: Record<'python' | 'javascript', string> = {
  python: 'python.jsonl',
  javascript: 'javascript.jsonl',
};

/**
 * Absolute path of the bundled mini dataset (Problem JSON per line) of a language. The folder
 * ships with the package (`fixtures/mini`), next to both `src` and `dist`.
 */
export function miniDatasetPath(language: Extract<Language, 'python' | 'javascript'>): string {
  const file = MINI_FILES[language];
  if (!file) throw new Error(`No mini dataset for language '${language}' (python, javascript)`);
  return fileURLToPath(new URL(`../fixtures/mini/${file}`, import.meta.url));
}

/** Stream the bundled mini dataset of a language (all loader options apply). */
export function loadMini(
  language: Extract<Language, 'python' | 'javascript'>,
  options: CommonOptionsInput = {},
): DatasetStream {
  return createJsonlLoader({ ...options, dataset: `mini-${language}` }).load(miniDatasetPath(language));
}
