import type { Language } from '@stepcoder/core';
import type { PythonSplitter } from './python-splitter.js';

/** How the split points of a program were found. */
export type SplitMethod = 'ast' | 'lines-fallback';

/**
 * Split points of one program. Every point is the character offset of a line start (column 0), so
 * the prefix before it ends with a line terminator and the remainder begins with the indentation
 * of the statement that opens there.
 */
export interface SplitResult {
  /**
   * Strictly increasing offsets, each `< program.length` and outside the starter code: `>
   * starterEnd`, or `> 0` and `< starterStart` in code that precedes the starter.
   */
  points: number[];
  method: SplitMethod;
  /** Why the parser was not used (`lines-fallback`), or a note about the starter code. */
  reason?: string;
  /**
   * Offset where the starter code begins in the program: 0 when it is a prefix (or absent, or not
   * found), more when helper code or imports precede it. Absent means 0.
   */
  starterStart?: number;
  /** Offset where the starter code ends in the program (0 when there is none or it was not found). */
  starterEnd: number;
}

export interface SplitOptions {
  /** The prefix the problem gives anyway; split points inside it are dropped. */
  starterCode?: string;
  /** Python splitter to use; default: a shared one (`getDefaultPythonSplitter()`). */
  splitter?: PythonSplitter;
}

/** One program to split in a batch. */
export interface SplitInput {
  source: string;
  language: Language;
  starterCode?: string;
}

/**
 * One stage of a program: `givenPrefix + target === program` for every stage, except the final
 * stage of a program whose starter code is preceded by other code (see `stagesFromSplit`).
 */
export interface Stage {
  /** 0 is the easiest (most code given); `stageCount - 1` gives only the starter code. */
  stage: number;
  givenPrefix: string;
  target: string;
  /** Offset in the full program where generation begins; always `givenPrefix.length`. */
  completionStart: number;
}
