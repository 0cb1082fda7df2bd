/** Languages a candidate program can be written in. */
export type Language = 'python' | 'javascript' | 'typescript';

/**
 * stdin/stdout tests: the program reads `input` on stdin; its stdout is compared with `output`
 * under the APPS rules (see `compareStdout`).
 */
export interface StdioTests {
  kind: 'stdio';
  cases: Array<{ input: string; output: string }>;
}

/**
 * Call-based tests: call `fnName(...inputs[i])` and deep-compare the return value with
 * `outputs[i]`. With `className`, the call is `new className().fnName(...)` (LeetCode style,
 * `Solution().method(*args)` in Python).
 */
export interface CallTests {
  kind: 'call';
  fnName: string;
  className?: string;
  inputs: unknown[][];
  outputs: unknown[];
}

/**
 * Assertion tests: each case is code run after the program in the same namespace; the case passes
 * when it finishes without raising (HumanEval's `check(candidate)`, MBPP's `assert f(x) == y`).
 * `setup` runs once before the cases (MBPP's test_setup_code).
 */
export interface AssertTests {
  kind: 'assert';
  cases: string[];
  setup?: string;
  /** The function under test, when the dataset names one (HumanEval's entry_point). */
  entryPoint?: string;
}

export type TestSuite = StdioTests | CallTests | AssertTests;
export type TestKind = TestSuite['kind'];

/** Where a problem came from, so every error about it can point at the file and row. */
export interface ProblemSource {
  dataset: string;
  file?: string;
  /** 1-based row (JSONL line or JSON array index + 1) or folder name for folder layouts. */
  row?: number | string;
}

/**
 * A programming problem with its unit tests. `canonicalSolutions` are complete programs: when
 * `starterCode` is set they begin with it (HumanEval: the signature and docstring).
 */
export interface Problem {
  id: string;
  /** The problem statement shown to the model (natural language, or code with a docstring). */
  prompt: string;
  language: Language;
  canonicalSolutions: string[];
  starterCode?: string;
  tests: TestSuite;
  difficulty?: string;
  /**
   * Code the harness runs around every candidate but never shows the model and never covers:
   * APPS+ prepends an import header and, for stdio problems, calls the solution function.
   */
  harness?: { preamble?: string; epilogue?: string };
  source?: ProblemSource;
  meta?: Record<string, unknown>;
}

/** Number of test cases in a suite. */
export function testCount(tests: TestSuite): number {
  switch (tests.kind) {
    case 'stdio':
      return tests.cases.length;
    case 'call':
      return tests.inputs.length;
    case 'assert':
      return tests.cases.length;
  }
}
