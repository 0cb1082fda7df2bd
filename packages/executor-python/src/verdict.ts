import {
  compareStdout,
  type ExecutionResult,
  infraErrorResult,
  matchesCallOutput,
  type Outcome,
  type TestResult,
  type Tolerance,
} from '@stepcoder/core';
import { buildCoverage, mergeHits, parseStatic, type StaticCoverage } from './coverage.js';
import type { Plan } from './request.js';
import { decodeWire } from './wire.js';
import type { JobEnd } from './worker.js';

/** What the child says about an exception (untrusted). */
interface ExceptionFacts {
  type: string;
  msg: string;
  line?: number;
  exit?: unknown;
}

const SIGNAL_NAMES: Record<number, string> = {
  4: 'SIGILL',
  6: 'SIGABRT',
  7: 'SIGBUS',
  8: 'SIGFPE',
  9: 'SIGKILL',
  11: 'SIGSEGV',
  15: 'SIGTERM',
  24: 'SIGXCPU',
  25: 'SIGXFSZ',
};

function asText(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

function exceptionFacts(v: unknown): ExceptionFacts | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const e = v as Record<string, unknown>;
  return {
    type: asText(e.type) || 'Exception',
    msg: asText(e.msg),
    line: Number.isInteger(e.line) ? (e.line as number) : undefined,
    exit: e.exit,
  };
}

function describeException(e: ExceptionFacts): string {
  const where = e.line !== undefined ? ` (line ${e.line})` : '';
  return `${e.type}${e.msg ? `: ${e.msg}` : ''}${where}`;
}

/** A normal end of a stdio program: `sys.exit()`, `exit(0)`, `quit()` after printing. */
function isCleanExit(e: ExceptionFacts): boolean {
  return e.type === 'SystemExit' && (e.exit === null || e.exit === undefined || e.exit === 0);
}

/** Outcome of a test that raised. Exiting is never a pass in call and assert tests. */
function failureOf(e: ExceptionFacts, kind: Plan['tests']['kind']): { outcome: Outcome; message: string } {
  if (e.type === 'NotPlainData')
    return { outcome: 'wrong_answer', message: `return value cannot be compared: ${e.msg}` };
  if (e.type === 'MemoryError')
    return { outcome: 'memory_limit', message: `MemoryError${e.msg ? `: ${e.msg}` : ''}` };
  if (e.type === 'SystemExit') {
    return {
      outcome: 'runtime_error',
      message: `SystemExit(${JSON.stringify(e.exit ?? null)}) before the test finished: exiting never passes a test`,
    };
  }
  if (kind === 'assert' && e.type === 'AssertionError') {
    return { outcome: 'wrong_answer', message: describeException(e) };
  }
  return { outcome: 'runtime_error', message: describeException(e) };
}

function cutStreams(cut: { stdout: boolean; stderr: boolean }): string {
  return cut.stdout && cut.stderr ? 'stdout and stderr' : cut.stdout ? 'stdout' : 'stderr';
}

/** The verdict of a stdio test whose stdout was cut at the cap: not compared. */
function outputLimitFailure(cap: number): { outcome: Outcome; reason: 'output_limit'; message: string } {
  return {
    outcome: 'runtime_error',
    reason: 'output_limit',
    message: `stdout exceeded maxOutputBytes (${cap} bytes) and was cut, so it was not compared with the expected output; raise limits.maxOutputBytes if the answer is this long`,
  };
}

/** `text` (of `bytes` UTF-8 bytes) with `add` appended, cut at `cap` UTF-8 bytes. */
function appendCapped(
  text: string,
  bytes: number,
  add: string,
  cap: number,
): { text: string; bytes: number; cut: boolean } {
  if (add === '') return { text, bytes, cut: false };
  const size = Buffer.byteLength(add, 'utf8');
  if (bytes + size <= cap) return { text: text + add, bytes: bytes + size, cut: false };
  const room = Math.max(0, cap - bytes);
  // Cut on a character boundary: a partial sequence at the end decodes to U+FFFD, dropped.
  const kept = Buffer.from(add, 'utf8')
    .subarray(0, room)
    .toString('utf8')
    .replace(/\uFFFD$/, '');
  return { text: text + kept, bytes: bytes + Buffer.byteLength(kept, 'utf8'), cut: true };
}

/** What the judge process may report. */
const JUDGE_RECORDS = new Set(['begin', 'test', 'done', 'gone', 'fatal']);

/**
 * Turns the child's record stream into a verdict, in the trusted parent. Records are checked as
 * they arrive (so a run can stop at the first failure); anything missing, out of order or
 * malformed is a failure of the candidate, never a pass.
 */
export class Judge {
  private readonly results: TestResult[] = [];
  private staticInfo: StaticCoverage | undefined;
  private readonly hits = new Map<number, number>();
  private compileError: ExceptionFacts | undefined;
  private programError: ExceptionFacts | undefined;
  private fatal: string | undefined;
  private violation: string | undefined;
  private outOfMemory = false;
  private done = false;
  /** Candidate code has started: from now on the candidate's records may be forged. */
  private begun = false;
  /** The judge process reported that the candidate's process ended before the tests. */
  private gone: string | undefined;
  private stdout = '';
  private stderr = '';
  private stdoutBytes = 0;
  private stderrBytes = 0;
  /** Streams cut at maxOutputBytes: in any record (the child's own cap) or in the concatenation here. */
  private readonly cut = { stdout: false, stderr: false };
  /** The program run before call/assert tests (`prog` record) had its output cut. */
  private programCut = false;

  constructor(
    private readonly plan: Plan,
    private readonly tolerance: Tolerance | undefined,
  ) {}

  /**
   * Feed one record line; returns true when the run should be stopped now. `trusted` records come
   * from the judge process, the others from the candidate's process (forgeable once its code runs).
   */
  record(line: string, trusted = false): boolean {
    if (this.done || this.violation || this.fatal) return true;
    const rec = decodeWire(line);
    if (typeof rec !== 'object' || rec === null || Array.isArray(rec)) {
      this.violation = 'the program wrote a malformed harness record';
      return true;
    }
    const r = rec as Record<string, unknown>;
    // With a judge, only the judge reports tests; the candidate's process reports the program run.
    if (this.plan.judged && !trusted && (r.t === 'test' || r.t === 'done' || r.t === 'gone')) {
      this.violation = 'the program forged a harness record';
      return true;
    }
    if (trusted && !JUDGE_RECORDS.has(String(r.t))) return false;
    switch (r.t) {
      case 'begin':
        if (!trusted) this.begun = true;
        return false;
      case 'static':
        if (this.plan.coverage && !this.staticInfo) this.staticInfo = parseStatic(r);
        return false;
      case 'compile':
        this.compileError = exceptionFacts(r);
        return true;
      case 'fatal':
        // An infra failure is believed only before candidate code ran (or from the judge):
        // otherwise a failing program could turn its negative reward into a skipped sample.
        if (this.begun && !trusted) {
          this.violation = 'the program forged a harness failure record';
          return true;
        }
        this.fatal = asText(r.msg) || 'harness failure';
        return true;
      case 'broken':
        this.violation = `the program broke the harness (${asText(r.msg).slice(0, 300)})`;
        return true;
      case 'gone':
        this.gone = asText(r.msg) || 'the program ended before the tests';
        return true;
      case 'oom':
        this.outOfMemory = true;
        return true;
      case 'done':
        this.done = true;
        return false;
      case 'prog': {
        const cut = this.collectOutput(r);
        this.programCut = cut.stdout || cut.stderr;
        if (r.exc !== undefined) {
          this.programError = exceptionFacts(r.exc);
          return true;
        }
        return false;
      }
      case 'test':
        return this.test(r);
      default:
        this.violation = 'the program wrote an unknown harness record';
        return true;
    }
  }

  /** Merge one record's output into the result's, capped in UTF-8 bytes; returns what it cut. */
  private collectOutput(r: Record<string, unknown>): { stdout: boolean; stderr: boolean } {
    mergeHits(this.hits, r.hits);
    const cap = this.plan.limits.maxOutputBytes;
    // The child reports per stream whether it cut this record's output (`tro` / `tre`).
    const cut = { stdout: r.tro === true, stderr: r.tre === true };
    const out = appendCapped(this.stdout, this.stdoutBytes, asText(r.out), cap);
    const err = appendCapped(this.stderr, this.stderrBytes, asText(r.err), cap);
    [this.stdout, this.stdoutBytes, this.stderr, this.stderrBytes] = [
      out.text,
      out.bytes,
      err.text,
      err.bytes,
    ];
    this.cut.stdout ||= cut.stdout || out.cut;
    this.cut.stderr ||= cut.stderr || err.cut;
    return cut;
  }

  private test(r: Record<string, unknown>): boolean {
    const position = this.results.length;
    if (r.i !== position || position >= this.plan.indices.length) {
      this.violation = `harness records out of order (expected test ${position}, got ${JSON.stringify(r.i)})`;
      return true;
    }
    const cut = this.collectOutput(r);
    const index = this.plan.indices[position]!;
    const tests = this.plan.tests;
    const exc = r.exc === undefined ? undefined : exceptionFacts(r.exc);
    const result: TestResult = {
      index,
      outcome: 'pass',
      durationMs: typeof r.ms === 'number' ? r.ms : 0,
      stdout: asText(r.out),
      stderr: asText(r.err),
      truncated: cut.stdout || cut.stderr,
      truncatedStreams: cut,
    };
    if (tests.kind === 'stdio') {
      const expected = tests.cases[index]!.output;
      result.expected = expected;
      result.actual = result.stdout;
      // A cut stdout is never compared as if complete, whatever happened next (the capped writer
      // raises to stop print loops early): neither a pass nor a wrong answer, but its own reason.
      if (cut.stdout) {
        Object.assign(result, outputLimitFailure(this.plan.limits.maxOutputBytes));
      } else if (exc && !isCleanExit(exc)) Object.assign(result, failureOf(exc, 'stdio'));
      else if (compareStdout(result.stdout!, expected, this.tolerance) === false) {
        result.outcome = 'wrong_answer';
        result.message = 'stdout differs from the expected output';
      }
    } else if (tests.kind === 'call') {
      const expected = tests.outputs[index];
      result.expected = expected;
      if (exc) Object.assign(result, failureOf(exc, 'call'));
      else if (typeof r.unser === 'string' || !('val' in r)) {
        result.outcome = 'wrong_answer';
        result.message = `return value cannot be compared: ${asText(r.unser) || 'missing'}`;
      } else {
        result.actual = r.val;
        // Python's == (APPS compares with it): True equals [1]'s 1, 2 equals 2.0.
        if (!matchesCallOutput(r.val, expected, this.tolerance, 'python')) {
          result.outcome = 'wrong_answer';
          result.message = 'return value differs from the expected output';
        }
      }
    } else if (exc) {
      Object.assign(result, failureOf(exc, 'assert'));
    }
    // The capped writers raise OSError(EFBIG) past maxOutputBytes, so a runtime error of a test
    // whose output was cut is the limit's doing. (A cut stderr alone leaves a complete stdout to
    // be compared: a program that survives it can still pass.)
    if (result.outcome === 'runtime_error' && (cut.stdout || cut.stderr) && !result.reason) {
      result.reason = 'output_limit';
      result.message = `${result.message ?? 'runtime error'} (${cutStreams(cut)} passed maxOutputBytes, ${this.plan.limits.maxOutputBytes} bytes)`;
    }
    this.results.push(result);
    return result.outcome !== 'pass' && this.plan.stopOnFirstFailure;
  }

  /** Why the child stopped before reporting every test, as the outcome of the next test. */
  private missingTest(end: JobEnd): { outcome: Outcome; message: string } {
    const { limits, wall } = this.plan;
    const scaled = wall.scale !== 1 ? ` x ${wall.scale} for coverage` : '';
    if (end.killed === 'timeout') {
      return { outcome: 'timeout', message: `exceeded timeoutMs (${limits.timeoutMs} ms${scaled})` };
    }
    if (end.killed === 'total-timeout') {
      return {
        outcome: 'timeout',
        message: `exceeded totalTimeoutMs (${limits.totalTimeoutMs} ms${scaled})`,
      };
    }
    if (this.violation) return { outcome: 'runtime_error', message: this.violation };
    if (this.outOfMemory) return { outcome: 'memory_limit', message: 'ran out of memory (memoryMb)' };
    if (end.exit?.overflow) {
      return {
        outcome: 'runtime_error',
        message: 'the program flooded the harness channel (oversized record)',
      };
    }
    const judgeSignal = end.judgeExit?.signal;
    if (this.plan.judged && judgeSignal !== undefined) {
      const name = SIGNAL_NAMES[judgeSignal] ?? `signal ${judgeSignal}`;
      return {
        outcome: 'runtime_error',
        message: `the judge process was killed by ${name} during the tests`,
      };
    }
    const signal = end.exit?.signal;
    if (signal === 24) return { outcome: 'timeout', message: 'exceeded the CPU time limit (RLIMIT_CPU)' };
    if (signal !== undefined) {
      const name = SIGNAL_NAMES[signal] ?? `signal ${signal}`;
      const hint = signal === 11 ? ' (stack overflow from deep recursion?)' : '';
      return { outcome: 'runtime_error', message: `the program was killed by ${name}${hint}` };
    }
    const code = end.exit?.code;
    return {
      outcome: 'runtime_error',
      message: `the program ended with status ${code ?? '?'} before its tests finished (os._exit or a crash): exiting never passes a test`,
    };
  }

  finish(end: JobEnd): ExecutionResult {
    const { plan } = this;
    const total = plan.indices.length;
    const durationMs = Math.round(end.durationMs * 1000) / 1000;
    if (end.infra) return infraErrorResult(end.infra, total, durationMs);
    if (this.fatal) return infraErrorResult(this.fatal, total, durationMs);
    const base = {
      total,
      durationMs,
      stdout: this.stdout,
      stderr: this.stderr,
      truncated: this.cut.stdout || this.cut.stderr,
      truncatedStreams: { ...this.cut },
    };
    if (this.compileError) {
      return {
        ...base,
        outcome: 'compile_error',
        tests: [],
        passed: 0,
        message: describeException(this.compileError),
      };
    }
    if (this.gone && !this.programError) {
      this.programError = { type: 'CandidateGone', msg: this.gone };
    }
    if (this.programError) {
      const failure = failureOf(this.programError, plan.tests.kind);
      const message = `the program failed before the tests: ${failure.message}`;
      const reason =
        this.programCut && failure.outcome === 'runtime_error' ? ('output_limit' as const) : undefined;
      for (const index of plan.indices) {
        this.results.push({
          index,
          outcome: failure.outcome,
          durationMs: 0,
          message,
          ...(reason && { reason }),
        });
      }
    } else if (
      this.results.length < total &&
      (end.killed !== 'stopped' || this.violation || this.outOfMemory) &&
      !this.stoppedByFailure()
    ) {
      const missing = this.missingTest(end);
      this.results.push({ index: plan.indices[this.results.length]!, durationMs: 0, ...missing });
    }
    const passed = this.results.filter((t) => t.outcome === 'pass').length;
    const failure = this.results.find((t) => t.outcome !== 'pass');
    const result: ExecutionResult = {
      ...base,
      outcome: failure ? failure.outcome : passed === total ? 'pass' : 'runtime_error',
      tests: this.results,
      passed,
    };
    if (failure) {
      result.message = `test ${failure.index}: ${failure.outcome}${failure.message ? `: ${failure.message}` : ''}`;
      if (failure.reason) result.reason = failure.reason;
    }
    if (plan.coverage && this.staticInfo)
      result.coverage = buildCoverage(plan.program, this.staticInfo, this.hits);
    return result;
  }

  private stoppedByFailure(): boolean {
    return this.plan.stopOnFirstFailure && this.results.some((t) => t.outcome !== 'pass');
  }
}
