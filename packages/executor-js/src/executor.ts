import {
  compareStdout,
  type ExecutionLimits,
  type ExecutionRequest,
  type ExecutionResult,
  type Executor,
  infraErrorResult,
  type Language,
  matchesCallOutput,
  type Outcome,
  resultWithoutTests,
  selectTests,
  type TestResult,
  type TestSuite,
  testCount,
  validate,
} from '@stepcoder/core';
import type ivm from 'isolated-vm';
import {
  COVERAGE_PATH,
  COVERAGE_VARIABLE,
  CoverageAccumulator,
  type CoverageCounters,
  type InstrumentedProgram,
  instrument,
  LruCache,
} from './coverage.js';
import {
  defaultPoolSize,
  type JsExecutorOptions,
  jsExecutorOptionsSchema,
  type ResolvedJsExecutorOptions,
} from './options.js';
import { IsolatePool, liveIsolateCount, type PooledIsolate } from './pool.js';
import { ProcessHosts } from './process-hosts.js';
import { checkRequest, decodeValue, encodeCall, resolveLimits } from './request.js';
import { type PreparedSource, prepareSource } from './transpile.js';

/** Limit of the harness's own hops before any candidate code ran (set-up only). */
const HARNESS_TIMEOUT_MS = 2000;
/**
 * The parent disposes an isolate this long after a hop's deadline: isolated-vm's `timeout` stops
 * running code, but not the getters it invokes while copying a thrown object out of the isolate.
 */
const WATCHDOG_GRACE_MS = 500;
/** Timer callbacks (virtual `setTimeout`/`setInterval`) fired per test before giving up. */
const MAX_TIMER_FIRES = 10_000;

export interface JsExecutorStats {
  /** Isolates alive in this process (all executors). */
  liveIsolates: number;
  idleIsolates: number;
  busyIsolates: number;
  cachedInstrumentations: number;
}

export interface JsExecutor extends Executor {
  readonly options: Readonly<ResolvedJsExecutorOptions>;
  stats(): JsExecutorStats;
}

/** Facts the harness reports after a test (see harness-source.ts `collect`). */
interface Collected {
  stdout: string;
  stderr: string;
  truncated: boolean;
  /** Per stream: the harness dropped output past `maxOutputBytes`. */
  stdoutCut: boolean;
  stderrCut: boolean;
  exitCalled: boolean;
  exitCode: number;
  consoleAssertFailures: number;
  firstConsoleAssert: string;
  assertFailures: number;
  asyncState: 'none' | 'pending' | 'fulfilled' | 'rejected';
  value: string | null;
  valueError: string;
  callError: string;
  callErrorName: string;
  stdioError: string;
  stdioErrorName: string;
  pendingTimers: number;
  integrity: string;
  coverage: string | null;
}

type HopFailure = { ok: false; error: unknown; watchdog: boolean };
type Hop<T> = { ok: true; value: T } | HopFailure;

interface Failure {
  outcome: Outcome;
  message: string;
}

/** The isolate a run currently holds, with the scripts compiled for it. */
interface Slot {
  pooled: PooledIsolate;
  scripts: Map<string, ivm.Script>;
}

type Ctl = ivm.Reference<(op: string, arg?: string) => unknown>;

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** Output may hold lone surrogates (a JS string is UTF-16); results carry well-formed text. */
function wellFormed(text: string): string {
  return text.replace(LONE_SURROGATE, '\uFFFD');
}

function errorText(err: unknown): { name: string; message: string } {
  if (err instanceof Error) return { name: err.name || 'Error', message: err.message };
  return { name: 'Error', message: String(err) };
}

function utf8Cut(text: string, maxBytes: number): { text: string; cut: boolean } {
  const buf = Buffer.from(text, 'utf8');
  if (buf.length <= maxBytes) return { text, cut: false };
  return {
    text: buf
      .subarray(0, maxBytes)
      .toString('utf8')
      .replace(/\uFFFD$/, ''),
    cut: true,
  };
}

/**
 * Create the JavaScript/TypeScript executor: candidates run in isolated-vm isolates with a heap
 * limit, time limits enforced by isolated-vm from outside the candidate, capped output and no
 * host access. Isolates are pooled and reused across programs; every test gets a fresh context.
 */
export function createJsExecutor(options: JsExecutorOptions = {}): JsExecutor {
  const parsed = validate(jsExecutorOptionsSchema, options, "options of executor 'js'");
  const resolved: ResolvedJsExecutorOptions = { ...parsed, poolSize: parsed.poolSize ?? defaultPoolSize() };
  const languages: readonly Language[] = resolved.typescript ? ['javascript', 'typescript'] : ['javascript'];
  const pool = new IsolatePool({
    size: resolved.poolSize,
    maxRunsPerIsolate: resolved.maxRunsPerIsolate,
    maxHeapFraction: resolved.maxHeapFraction,
  });
  const hosts =
    resolved.isolation === 'process'
      ? new ProcessHosts(resolved.poolSize, { ...options, isolation: undefined, poolSize: undefined })
      : undefined;
  const instrumentCache = new LruCache<string, InstrumentedProgram | Error>(resolved.coverageCacheSize);
  let disposed = false;

  function instrumented(language: Language, code: string): InstrumentedProgram | undefined {
    const key = `${language}\u0000${code}`;
    let entry = instrumentCache.get(key);
    if (entry === undefined) {
      try {
        entry = instrument(code);
      } catch (err) {
        entry = err instanceof Error ? err : new Error(String(err));
      }
      instrumentCache.set(key, entry);
    }
    return entry instanceof Error ? undefined : entry;
  }

  async function run(request: ExecutionRequest): Promise<ExecutionResult> {
    if (hosts) {
      if (disposed) return infraErrorResult("executor 'js' was disposed", safeCount(request));
      const limits = resolveLimits(resolved.limits, resolved.memoryMb, request.limits);
      return hosts.run(request, limits.totalTimeoutMs + 30_000);
    }
    // Until an isolate is free, the request is queued: that wait is reported as `queueMs` and
    // never counts against its time limits (a batch larger than the pool must not time out).
    const requested = performance.now();
    let started = requested;
    const elapsed = () => performance.now() - started;
    let total = 0;
    try {
      total = safeCount(request);
      if (disposed) return infraErrorResult("executor 'js' was disposed", total);
      const language = request.language ?? 'javascript';
      if (!languages.includes(language)) {
        return infraErrorResult(
          `executor 'js' runs ${languages.join(' and ')}, not '${language}'${
            language === 'typescript' ? ' (enable the typescript option)' : ''
          }`,
          total,
        );
      }
      try {
        checkRequest(request);
      } catch (err) {
        return infraErrorResult(errorText(err).message, total, elapsed());
      }
      const limits = resolveLimits(resolved.limits, resolved.memoryMb, request.limits);
      const tests = request.tests;
      const indices = selectTests(testCount(tests), request.testBudget);
      total = indices.length;
      const calls: string[] = [];
      if (tests.kind === 'call') {
        try {
          for (const i of indices) calls[i] = encodeCall(tests.fnName, tests.className, tests.inputs[i]!, i);
        } catch (err) {
          return infraErrorResult(errorText(err).message, total, elapsed());
        }
      }

      let prepared: PreparedSource;
      try {
        prepared = prepareSource(request.program, language);
      } catch (err) {
        return compileError(`SyntaxError: ${errorText(err).message}`, total, elapsed());
      }
      const coverageProgram = request.coverage ? instrumented(language, prepared.code) : undefined;

      const first = await pool.acquire(limits.memoryMb);
      started = performance.now();
      const queueMs = Math.round((started - requested) * 1000) / 1000;
      const slot: Slot = { pooled: first, scripts: new Map() };
      try {
        const result = await runTests({
          request,
          tests,
          indices,
          calls,
          limits,
          prepared,
          coverageProgram,
          slot,
          started,
        });
        result.queueMs = queueMs;
        result.sandbox = 'isolate';
        return result;
      } finally {
        pool.release(slot.pooled);
      }
    } catch (err) {
      return infraErrorResult(`executor 'js' failed: ${errorText(err).message}`, total, elapsed());
    }
  }

  interface RunPlan {
    request: ExecutionRequest;
    tests: TestSuite;
    indices: number[];
    calls: string[];
    limits: ExecutionLimits;
    prepared: PreparedSource;
    coverageProgram: InstrumentedProgram | undefined;
    /** The compiled program is the instrumented one (set once compiled). */
    covered?: boolean;
    slot: Slot;
    started: number;
  }

  function script(slot: Slot, key: string, code: string, filename: string): ivm.Script {
    let s = slot.scripts.get(key);
    if (!s) {
      s = slot.pooled.isolate.compileScriptSync(code, { filename });
      slot.scripts.set(key, s);
    }
    return s;
  }

  async function runTests(plan: RunPlan): Promise<ExecutionResult> {
    const { request, indices, limits, slot, started } = plan;
    const elapsed = () => performance.now() - started;

    // Compile once per isolate: V8 is the judge of syntax. With coverage, the instrumented text
    // is compiled instead; if V8 rejects it but accepts the original, the run goes uncovered.
    let programCode = plan.prepared.code;
    let covered = plan.coverageProgram;
    try {
      script(slot, 'program', programCode, 'program.js');
    } catch (err) {
      const { name, message } = errorText(err);
      return compileError(`${name}: ${message}`, indices.length, elapsed());
    }
    if (covered) {
      try {
        slot.scripts.set(
          'program',
          slot.pooled.isolate.compileScriptSync(covered.code, { filename: 'program.js' }),
        );
        programCode = covered.code;
      } catch {
        covered = undefined;
      }
    }
    const hidden: Array<[string, string, string]> = [];
    if (request.preamble) hidden.push(['preamble', request.preamble, 'preamble.js']);
    if (request.epilogue) hidden.push(['epilogue', request.epilogue, 'epilogue.js']);
    for (const [key, code, file] of hidden) {
      try {
        script(slot, key, code, file);
      } catch (err) {
        return infraErrorResult(
          `${key} does not compile: ${errorText(err).message}`,
          indices.length,
          elapsed(),
        );
      }
    }

    plan.covered = covered !== undefined;
    const accumulator = covered ? new CoverageAccumulator(covered.initial) : undefined;
    const stopEarly = request.stopOnFirstFailure === true && !request.coverage;
    const programDeadline = started + limits.totalTimeoutMs;
    const results: TestResult[] = [];
    const shareSessions = plan.tests.kind === 'call' && resolved.shareCallContext;
    let shared: Session | undefined;
    const renew = () => {
      shared = undefined;
      slot.pooled = pool.replace(slot.pooled);
      slot.scripts.clear();
      script(slot, 'program', programCode, 'program.js');
      for (const [key, code, file] of hidden) script(slot, key, code, file);
    };
    try {
      for (const index of indices) {
        if (request.signal?.aborted) return infraErrorResult('aborted', indices.length, elapsed());
        const testStart = performance.now();
        if (testStart >= programDeadline) {
          results.push({
            index,
            outcome: 'timeout',
            durationMs: 0,
            message: `exceeded totalTimeoutMs (${limits.totalTimeoutMs} ms)`,
          });
          break;
        }
        const deadline = Math.min(testStart + limits.timeoutMs, programDeadline);
        const budgetMessage =
          deadline === programDeadline && testStart + limits.timeoutMs > programDeadline
            ? `exceeded totalTimeoutMs (${limits.totalTimeoutMs} ms)`
            : `exceeded timeoutMs (${limits.timeoutMs} ms)`;
        let session = shared;
        if (session && !(await resetSession(slot, session, deadline))) {
          closeSession(slot, session);
          session = undefined;
          shared = undefined;
          if (slot.pooled.dead) renew();
        }
        if (!session) {
          try {
            session = await openSession(plan, index, deadline, budgetMessage);
          } catch (err) {
            const f: Failure = slot.pooled.dead
              ? { outcome: 'memory_limit', message: `exceeded memoryMb: ${errorText(err).message}` }
              : { outcome: 'infra_error', message: `harness failed: ${errorText(err).message}` };
            session = undefined;
            results.push({
              index,
              outcome: f.outcome,
              durationMs: performance.now() - testStart,
              message: f.message,
            });
            if (f.outcome === 'infra_error')
              return { ...infraErrorResult(f.message, indices.length, elapsed()), tests: results };
            if (slot.pooled.dead) renew();
            if (stopEarly) break;
            continue;
          }
        }
        const { result, counters } = await runOne(plan, session, index, deadline, budgetMessage);
        // A session survives a test only when the test ended normally: after a timeout or an exit
        // the program's state is half-updated, so the next test starts from scratch.
        const reusable =
          shareSessions &&
          !slot.pooled.dead &&
          (result.outcome === 'pass' || result.outcome === 'wrong_answer');
        if (reusable) shared = session;
        else {
          closeSession(slot, session);
          shared = undefined;
        }
        result.durationMs = performance.now() - testStart;
        results.push(result);
        if (counters && accumulator) accumulator.add(counters);
        if (slot.pooled.dead) renew();
        if (result.outcome === 'infra_error') {
          return {
            ...infraErrorResult(result.message ?? 'infra_error', indices.length, elapsed()),
            tests: results,
          };
        }
        if (stopEarly && result.outcome !== 'pass') break;
      }
    } finally {
      if (shared) closeSession(slot, shared);
    }

    const passed = results.filter((t) => t.outcome === 'pass').length;
    const failure = results.find((t) => t.outcome !== 'pass');
    let stdout = '';
    let stderr = '';
    for (const t of results) {
      stdout += t.stdout ?? '';
      stderr += t.stderr ?? '';
    }
    const out = utf8Cut(stdout, limits.maxOutputBytes);
    const err = utf8Cut(stderr, limits.maxOutputBytes);
    const cut = {
      stdout: out.cut || results.some((t) => t.truncatedStreams?.stdout === true),
      stderr: err.cut || results.some((t) => t.truncatedStreams?.stderr === true),
    };
    const result: ExecutionResult = {
      outcome: failure ? failure.outcome : passed === indices.length ? 'pass' : 'runtime_error',
      tests: results,
      passed,
      total: indices.length,
      durationMs: elapsed(),
      stdout: out.text,
      stderr: err.text,
      truncated: cut.stdout || cut.stderr,
      truncatedStreams: cut,
    };
    if (failure) {
      result.message = `test ${failure.index}: ${failure.outcome}${failure.message ? `: ${failure.message}` : ''}`;
      if (failure.reason) result.reason = failure.reason;
    }
    if (accumulator) result.coverage = accumulator.toCoverage(plan.prepared.mapPosition);
    return result;
  }

  async function guarded<T>(
    slot: Slot,
    deadline: number,
    fn: (timeoutMs: number) => Promise<T>,
  ): Promise<Hop<T>> {
    const remaining = Math.floor(deadline - performance.now());
    if (remaining <= 0)
      return { ok: false, error: new Error('Script execution timed out.'), watchdog: false };
    let watchdog = false;
    const pooled = slot.pooled;
    const timer = setTimeout(() => {
      watchdog = true;
      pooled.dispose();
    }, remaining + WATCHDOG_GRACE_MS);
    try {
      return { ok: true, value: await fn(remaining) };
    } catch (error) {
      return { ok: false, error, watchdog };
    } finally {
      clearTimeout(timer);
    }
  }

  function hopFailure(
    slot: Slot,
    hop: { error: unknown; watchdog: boolean },
    budgetMessage: string,
  ): Failure {
    if (hop.watchdog) {
      return {
        outcome: 'timeout',
        message: `${budgetMessage}; the isolate was disposed by the watchdog (it kept running while its error was copied out)`,
      };
    }
    const { name, message } = errorText(hop.error);
    if (slot.pooled.dead) {
      return {
        outcome: 'memory_limit',
        message: `exceeded memoryMb (${slot.pooled.memoryMb} MiB): ${message}`,
      };
    }
    if (message === 'Script execution timed out.') return { outcome: 'timeout', message: budgetMessage };
    return { outcome: 'runtime_error', message: `${name}: ${message}` };
  }

  /**
   * A context with the harness installed and the program (with preamble and epilogue) run in it.
   * Call-based tests of one program share a session (APPS's harness also imports the program
   * once and calls it per test); stdio tests need their own stdin and top-level run, and
   * assertion cases may redeclare top-level names, so those get a fresh session per test.
   */
  interface Session {
    context: ivm.Context;
    ctl: Ctl;
    /** The program threw at top level (each test run in this session fails with it). */
    programError?: Failure;
    /** Set-up could not finish (timeout, memory, preamble failure): the test fails with it. */
    fatal?: Failure;
  }

  async function openSession(
    plan: RunPlan,
    index: number,
    deadline: number,
    budgetMessage: string,
  ): Promise<Session> {
    const { slot, tests, limits } = plan;
    const context = slot.pooled.isolate.createContextSync();
    const ctl = slot.pooled.harness.runSync(context, { reference: true, timeout: HARNESS_TIMEOUT_MS }) as Ctl;
    const session: Session = { context, ctl };
    ctl.applySync(
      undefined,
      [
        'init',
        JSON.stringify({
          stdin: tests.kind === 'stdio' ? tests.cases[index]!.input : '',
          maxOutputBytes: limits.maxOutputBytes,
          env: resolved.allow.env,
          files: resolved.allow.files,
          integrity: tests.kind === 'assert',
        }),
      ],
      { timeout: HARNESS_TIMEOUT_MS },
    );
    // Wasm memory is allocated outside the heap that memoryMb bounds: no WebAssembly unless granted.
    if (!resolved.wasm) context.global.deleteSync('WebAssembly');
    const runScript = (key: string) =>
      guarded(slot, deadline, (timeout) => slot.scripts.get(key)!.run(context, { timeout }));
    if (slot.scripts.has('preamble')) {
      const hop = await runScript('preamble');
      if (!hop.ok) {
        const f = hopFailure(slot, hop, budgetMessage);
        session.fatal =
          f.outcome === 'runtime_error' ? { outcome: 'infra_error', message: `preamble: ${f.message}` } : f;
        return session;
      }
    }
    for (const key of ['program', 'epilogue']) {
      if (!slot.scripts.has(key)) continue;
      const hop = await runScript(key);
      if (hop.ok) continue;
      const f = hopFailure(slot, hop, budgetMessage);
      if (f.outcome === 'runtime_error') session.programError = f;
      else session.fatal = f;
      break;
    }
    return session;
  }

  /**
   * Clear a shared session's per-test state (output, errors, timers, coverage counters). False when
   * that failed (a candidate's getter on its coverage object, a dead isolate): start afresh then.
   */
  async function resetSession(slot: Slot, session: Session, deadline: number): Promise<boolean> {
    const c = session.ctl;
    const hop = await guarded(slot, Math.max(deadline, performance.now() + 500), (timeout) =>
      c.apply(undefined, ['reset', COVERAGE_VARIABLE + '\u0000' + COVERAGE_PATH], { timeout }),
    );
    return hop.ok;
  }

  function closeSession(slot: Slot, session: Session): void {
    if (slot.pooled.dead) return;
    session.ctl.release();
    session.context.release();
  }

  async function runOne(
    plan: RunPlan,
    session: Session,
    index: number,
    deadline: number,
    budgetMessage: string,
  ): Promise<{ result: TestResult; counters?: CoverageCounters }> {
    const { slot, tests } = plan;
    const c = session.ctl;
    const context = session.context;
    const collectArgs = JSON.stringify({
      value: tests.kind === 'call',
      integrity: tests.kind === 'assert',
      coverageVar: plan.covered ? COVERAGE_VARIABLE : '',
      coveragePath: COVERAGE_PATH,
    });
    const finish = (
      result: TestResult,
      collected: Collected | undefined,
    ): { result: TestResult; counters?: CoverageCounters } => {
      if (collected) {
        result.stdout = wellFormed(collected.stdout);
        if (collected.stderr) result.stderr = wellFormed(collected.stderr);
        result.truncated = collected.stdoutCut || collected.stderrCut;
        result.truncatedStreams = { stdout: collected.stdoutCut, stderr: collected.stderrCut };
      }
      const counters = collected?.coverage ? (JSON.parse(collected.coverage) as CoverageCounters) : undefined;
      return counters ? { result, counters } : { result };
    };
    const fail = (f: Failure, collected?: Collected) =>
      finish({ index, outcome: f.outcome, durationMs: 0, message: f.message }, collected);
    const collect = async (): Promise<Hop<Collected>> => {
      // Collecting runs candidate getters (toJSON, the coverage object): a short budget of its own.
      const hop = await guarded(slot, Math.max(deadline, performance.now() + 500), (timeout) =>
        c.apply(undefined, ['collect', collectArgs], { timeout }),
      );
      return hop.ok ? { ok: true, value: JSON.parse(hop.value as string) as Collected } : hop;
    };
    const pump = async (pending: number): Promise<HopFailure | undefined> => {
      let left = pending;
      for (let fired = 0; left > 0; fired++) {
        if (fired >= MAX_TIMER_FIRES)
          return { ok: false, error: new Error('Script execution timed out.'), watchdog: false };
        const hop = await guarded(slot, deadline, (timeout) => c.apply(undefined, ['tick'], { timeout }));
        if (!hop.ok) return hop;
        left = hop.value as number;
      }
      return undefined;
    };
    /** Run one candidate-facing op, then its timers; a failure of the hop itself is returned. */
    const act = async (op: string, arg?: string): Promise<Failure | undefined> => {
      const hop = await guarded(slot, deadline, (timeout) => c.apply(undefined, [op, arg], { timeout }));
      if (!hop.ok) return hopFailure(slot, hop, budgetMessage);
      const stuck = await pump(hop.value as number);
      return stuck ? hopFailure(slot, stuck, budgetMessage) : undefined;
    };

    try {
      if (session.fatal) return fail(session.fatal);
      let hopError: Failure | undefined;
      let caseFailure: Failure | undefined;
      if (!session.programError) {
        if (tests.kind === 'stdio') hopError = await act('stdio');
        else if (tests.kind === 'call') hopError = await act('call', plan.calls[index]!);
        else {
          const entry = tests.entryPoint;
          if (entry) {
            const hop = await guarded(slot, deadline, (timeout) =>
              c.apply(undefined, ['defined', entry], { timeout }),
            );
            if (!hop.ok) hopError = hopFailure(slot, hop, budgetMessage);
            else if (hop.value !== true) {
              caseFailure = { outcome: 'runtime_error', message: `entry point '${entry}' is not defined` };
            }
          }
          const steps: Array<[string, string, string]> = [];
          if (tests.setup) steps.push([`setup:${tests.setup}`, tests.setup, 'setup.js']);
          steps.push([`case:${tests.cases[index]!}`, tests.cases[index]!, 'test.js']);
          for (const [key, code, file] of steps) {
            if (hopError || caseFailure) break;
            try {
              script(slot, key, code, file);
            } catch (err) {
              caseFailure = {
                outcome: 'infra_error',
                message: `${file} of test ${index} does not compile: ${errorText(err).message}`,
              };
              break;
            }
            const hop = await guarded(slot, deadline, (timeout) =>
              slot.scripts.get(key)!.run(context, { timeout }),
            );
            if (!hop.ok) {
              const f = hopFailure(slot, hop, budgetMessage);
              if (f.outcome !== 'runtime_error') hopError = f;
              else caseFailure = file === 'setup.js' ? { ...f, message: `setup: ${f.message}` } : f;
            }
          }
          if (!hopError) hopError = await act('tick');
        }
      }
      if (slot.pooled.dead) return fail(hopError ?? { outcome: 'memory_limit', message: 'the isolate died' });
      const collected = await collect();
      if (!collected.ok) return fail(hopError ?? hopFailure(slot, collected, budgetMessage));
      const facts = collected.value;
      if (hopError) return fail(hopError, facts);
      return finish(verdict(plan, index, facts, session.programError, caseFailure, budgetMessage), facts);
    } catch (err) {
      if (slot.pooled.dead) {
        return fail({ outcome: 'memory_limit', message: `exceeded memoryMb: ${errorText(err).message}` });
      }
      return fail({ outcome: 'infra_error', message: `harness failed: ${errorText(err).message}` });
    }
  }

  function verdict(
    { tests, limits }: RunPlan,
    index: number,
    facts: Collected,
    programError: Failure | undefined,
    caseFailure: Failure | undefined,
    budgetMessage: string,
  ): TestResult {
    const base = { index, durationMs: 0 };
    if (facts.exitCalled) {
      if (tests.kind !== 'stdio') {
        return {
          ...base,
          outcome: 'runtime_error',
          message: `process.exit(${facts.exitCode}) was called: a program that exits cannot pass ${tests.kind} tests`,
        };
      }
      if (facts.exitCode !== 0) {
        return { ...base, outcome: 'runtime_error', message: `process.exit(${facts.exitCode})` };
      }
    } else if (programError) {
      return { ...base, outcome: 'runtime_error', message: programError.message };
    }
    if (tests.kind === 'stdio') {
      if (!facts.exitCalled) {
        if (facts.stdioError) {
          return {
            ...base,
            outcome: 'runtime_error',
            message: `${facts.stdioErrorName}: ${facts.stdioError}`,
          };
        }
        if (facts.exitCode !== 0) {
          return { ...base, outcome: 'runtime_error', message: `process.exitCode was ${facts.exitCode}` };
        }
      }
      const expected = tests.cases[index]!.output;
      const actual = wellFormed(facts.stdout);
      // A cut stdout is never compared as if complete: neither a pass nor a wrong answer.
      if (facts.stdoutCut) {
        return {
          ...base,
          outcome: 'runtime_error',
          reason: 'output_limit',
          message: `stdout exceeded maxOutputBytes (${limits.maxOutputBytes} bytes) and was cut, so it was not compared with the expected output; raise limits.maxOutputBytes if the answer is this long`,
          expected,
          actual,
        };
      }
      if (compareStdout(actual, expected)) return { ...base, outcome: 'pass' };
      return { ...base, outcome: 'wrong_answer', message: 'output differs', expected, actual };
    }
    if (tests.kind === 'call') {
      const expected = tests.outputs[index];
      if (facts.callError) {
        return { ...base, outcome: 'runtime_error', message: `${facts.callErrorName}: ${facts.callError}` };
      }
      if (facts.stdioError) {
        return { ...base, outcome: 'runtime_error', message: `${facts.stdioErrorName}: ${facts.stdioError}` };
      }
      if (facts.asyncState === 'pending') {
        return {
          ...base,
          outcome: 'timeout',
          message: `${budgetMessage}: the returned promise never settled`,
        };
      }
      if (facts.valueError) {
        return {
          ...base,
          outcome: 'runtime_error',
          message: `the return value cannot be copied: ${facts.valueError}`,
        };
      }
      const actual = facts.value === null ? undefined : decodeValue(facts.value);
      if (matchesCallOutput(actual, expected)) return { ...base, outcome: 'pass' };
      return { ...base, outcome: 'wrong_answer', message: 'return value differs', expected, actual };
    }
    if (caseFailure) {
      if (caseFailure.outcome === 'runtime_error' && facts.assertFailures > 0) {
        return { ...base, outcome: 'wrong_answer', message: caseFailure.message };
      }
      return { ...base, ...caseFailure };
    }
    if (facts.stdioError) {
      return { ...base, outcome: 'runtime_error', message: `${facts.stdioErrorName}: ${facts.stdioError}` };
    }
    if (facts.consoleAssertFailures > 0) {
      return { ...base, outcome: 'wrong_answer', message: facts.firstConsoleAssert };
    }
    if (facts.integrity) {
      return {
        ...base,
        outcome: 'runtime_error',
        message: `the program replaced the built-in '${facts.integrity}'; assertion tests cannot trust a patched runtime`,
      };
    }
    return { ...base, outcome: 'pass' };
  }

  return {
    specificationVersion: 'v1',
    name: 'js',
    languages,
    options: resolved,
    run,
    async dispose() {
      disposed = true;
      pool.dispose();
      hosts?.dispose();
    },
    stats() {
      return {
        liveIsolates: liveIsolateCount(),
        idleIsolates: pool.idleCount,
        busyIsolates: pool.busyCount,
        cachedInstrumentations: instrumentCache.size,
      };
    },
  };
}

function compileError(message: string, total: number, durationMs: number): ExecutionResult {
  return resultWithoutTests('compile_error', message, total, durationMs);
}

/** Test count of a request that may be malformed (for infra_error results). */
function safeCount(request: ExecutionRequest): number {
  try {
    return testCount(request.tests);
  } catch {
    return 0;
  }
}
