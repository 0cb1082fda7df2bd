import type { Language, TestSuite } from './problem.js';
import { createRng } from './rng.js';

/**
 * The verdict of one program (or one test). `infra_error` means the executor itself failed (worker
 * died, harness error): it is never a reward, and the trainer leaves such samples out.
 */
export type Outcome =
  | 'pass'
  | 'wrong_answer'
  | 'runtime_error'
  | 'compile_error'
  | 'timeout'
  | 'memory_limit'
  | 'infra_error';

export const OUTCOMES: readonly Outcome[] = [
  'pass',
  'wrong_answer',
  'runtime_error',
  'compile_error',
  'timeout',
  'memory_limit',
  'infra_error',
];

export interface ExecutionLimits {
  /** Wall-clock limit of one test, ms. */
  timeoutMs: number;
  /** Wall-clock limit of the whole program (all tests), ms. */
  totalTimeoutMs: number;
  /** Memory limit, MiB (isolate heap for JS, RLIMIT_AS for Python). */
  memoryMb: number;
  /**
   * Bytes of stdout and of stderr kept per test (each stream on its own; also the cap of the
   * result-level `stdout`/`stderr`). Past it the rest is dropped and never silently: the stream is
   * flagged in `truncated`/`truncatedStreams`, and a stdio test whose stdout was cut is not
   * compared (outcome `runtime_error`, reason `output_limit`). Default 64 KiB (`DEFAULT_LIMITS`).
   */
  maxOutputBytes: number;
}

export const DEFAULT_LIMITS: Readonly<ExecutionLimits> = {
  timeoutMs: 4000,
  totalTimeoutMs: 30000,
  memoryMb: 512,
  maxOutputBytes: 64 * 1024,
};

/** How many tests to run when a problem has many. */
export type TestBudget = { first: number } | { sample: number; seed: number };

export interface ExecutionRequest {
  /** The candidate program: CCCS given prefix + generated completion. */
  program: string;
  language?: Language;
  tests: TestSuite;
  limits?: Partial<ExecutionLimits>;
  /** Collect coverage of the candidate program. Off by default and then costs nothing. */
  coverage?: boolean;
  /** Stop at the first failing test (verdict only). Ignored when coverage is on. */
  stopOnFirstFailure?: boolean;
  testBudget?: TestBudget;
  /** Hidden code run before / after the program (Problem.harness). Never covered. */
  preamble?: string;
  epilogue?: string;
  signal?: AbortSignal;
}

/** 1-based line, 0-based column in UTF-16 code units (a JavaScript string index into the line). */
export interface SourcePos {
  line: number;
  column: number;
}

export interface SourceRange {
  start: SourcePos;
  /** Exclusive end. */
  end: SourcePos;
}

export interface StatementCoverage extends SourceRange {
  hits: number;
}

export interface BranchArmCoverage {
  /** Source range of the arm's code, when the arm has code (an implicit `else` has none). */
  range?: SourceRange;
  hits: number;
}

export interface BranchCoverage {
  /** `if`, `cond-expr`, `switch`, `for`, `while`, `logical`, `try`… */
  kind: string;
  /** Line of the branching statement. */
  line: number;
  arms: BranchArmCoverage[];
}

/**
 * Coverage of the candidate program, in the program's own coordinates (never of the harness,
 * preamble or epilogue), merged over all tests that ran.
 */
export interface Coverage {
  /** Executed lines, ascending, 1-based. */
  lines: number[];
  /** Lines that hold executable code (executed or not), ascending. */
  executableLines: number[];
  /** Hit count per executed line. */
  lineHits?: Record<number, number>;
  statements?: StatementCoverage[];
  branches?: BranchCoverage[];
}

export interface TestResult {
  index: number;
  outcome: Outcome;
  /**
   * Why the test failed, where the outcome alone does not say. `output_limit`: the test's output
   * passed `maxOutputBytes` and was cut, so it was not judged as if complete (outcome
   * `runtime_error`): a program printing a correct answer longer than the cap is neither a pass
   * nor a wrong answer. Rewards may score it on its own (the StepCoder table's `outputLimit`).
   */
  reason?: 'output_limit';
  durationMs: number;
  message?: string;
  stdout?: string;
  stderr?: string;
  /** This test's stdout or stderr was cut at `maxOutputBytes` (absent: the executor did not say). */
  truncated?: boolean;
  /** Which of this test's streams were cut at `maxOutputBytes`. */
  truncatedStreams?: { stdout: boolean; stderr: boolean };
  /** JSON-able expected and actual values (call tests) or text (stdio tests). */
  expected?: unknown;
  actual?: unknown;
}

export interface ExecutionResult {
  outcome: Outcome;
  tests: TestResult[];
  passed: number;
  /** Tests that were meant to run (after the budget), including those skipped after a failure. */
  total: number;
  durationMs: number;
  /** One-line human explanation of the outcome (first failure, error type…). */
  message?: string;
  /** The failing test's `reason` (see `TestResult.reason`): `output_limit` when its output was cut. */
  reason?: 'output_limit';
  stdout: string;
  stderr: string;
  /**
   * Some output was cut at `maxOutputBytes`: a test's own stdout/stderr, or the concatenation of
   * all tests' output kept here. Never silent: see `truncatedStreams` for which stream.
   */
  truncated: boolean;
  /**
   * Which streams were cut (any test's, or the concatenation here); `truncated` is their `or`.
   * Optional so that results built elsewhere stay valid; the bundled executors always set it.
   */
  truncatedStreams?: { stdout: boolean; stderr: boolean };
  coverage?: Coverage;
  /** What isolated the program (see SandboxLevel); absent when the executor does not say. */
  sandbox?: SandboxLevel;
  /** Time the request waited for a free worker/isolate before it started, ms (not in durationMs). */
  queueMs?: number;
}

/**
 * How a result's program was isolated, so nobody trains unprotected without knowing:
 * `namespaces`: Linux namespaces (no network, private PID/mount/IPC/UTS, read-only file system,
 * private temp) plus rlimits; `rlimits`: resource limits and a dropped uid only; `wrapper`: a
 * user-supplied command prefix; `isolate`: a V8 isolate (isolated-vm) in the trainer's process;
 * `isolate-process`: a V8 isolate in a separate host process.
 */
export type SandboxLevel = 'namespaces' | 'rlimits' | 'wrapper' | 'isolate' | 'isolate-process';

export interface Executor {
  readonly specificationVersion: 'v1';
  readonly name: string;
  readonly languages: readonly Language[];
  run(request: ExecutionRequest): Promise<ExecutionResult>;
  /** Release workers/isolates. Idempotent. */
  dispose(): Promise<void>;
}

/**
 * A result decided before any test ran (the program did not compile, the executor failed): no
 * per-test results, no output.
 */
export function resultWithoutTests(
  outcome: Outcome,
  message: string,
  total: number,
  durationMs = 0,
): ExecutionResult {
  return {
    outcome,
    tests: [],
    passed: 0,
    total,
    durationMs,
    message,
    stdout: '',
    stderr: '',
    truncated: false,
    truncatedStreams: { stdout: false, stderr: false },
  };
}

/** Helper for executors: an infra_error result that carries the reason. */
export function infraErrorResult(message: string, total: number, durationMs = 0): ExecutionResult {
  return resultWithoutTests('infra_error', message, total, durationMs);
}

/**
 * Indices of the tests to run, ascending: all, the first N, or a seeded sample of N. Every
 * executor draws the same sample for the same seed, so verdicts agree across languages.
 */
export function selectTests(count: number, budget: TestBudget | undefined): number[] {
  const all = Array.from({ length: count }, (_, i) => i);
  if (!budget) return all;
  if ('first' in budget) return all.slice(0, budget.first);
  return createRng(budget.seed)
    .split('test-budget')
    .sample(all, budget.sample)
    .sort((a, b) => a - b);
}
