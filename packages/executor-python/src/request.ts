import {
  type ExecutionLimits,
  type ExecutionRequest,
  executionRequestSchema,
  selectTests,
  type TestSuite,
  validate,
} from '@stepcoder/core';
import { z } from 'zod';
import type { ResolvedPythonExecutorOptions } from './options.js';
import { assertWireValues, encodeWire } from './wire.js';

const WHERE = "execution request of executor 'python'";

const requestSchema = executionRequestSchema.extend({
  language: z.literal('python', { error: "executor 'python' runs only language 'python'" }).optional(),
});

/** What the parent needs to judge a run, derived from the request. */
export interface Plan {
  tests: TestSuite;
  /** Indices (into the suite) of the tests sent to the child, in run order. */
  indices: number[];
  limits: ExecutionLimits;
  /** Wall limits actually enforced: `limits` stretched by the coverage factor on coverage runs. */
  wall: { testMs: number; totalMs: number; scale: number };
  coverage: boolean;
  stopOnFirstFailure: boolean;
  program: string;
  /** Assertion tests run in a separate judge process (see `assertJudge`). */
  judged: boolean;
}

export interface JobSettings {
  fileSizeMb: number;
  maxProcesses: number;
  env: Record<string, string>;
  hitCap: number;
  coverageBackend: ResolvedPythonExecutorOptions['coverageBackend'];
}

/** Executor options that shape every plan. */
export interface PlanSettings {
  maxTestsDefault?: number;
  coverageTimeoutFactor?: number;
  assertJudge?: ResolvedPythonExecutorOptions['assertJudge'];
}

/** Validate a request (throws ValidationError naming the bad field) and fill in limits/budget. */
export function planRequest(
  request: ExecutionRequest,
  defaults: ExecutionLimits,
  { maxTestsDefault, coverageTimeoutFactor = 1, assertJudge = 'process' }: PlanSettings = {},
): Plan {
  validate(requestSchema, request, WHERE, 'INVALID_PROBLEM');
  const tests = request.tests;
  if (tests.kind === 'call') assertWireValues(tests.inputs, WHERE);
  const count = tests.kind === 'call' ? tests.inputs.length : tests.cases.length;
  const budget = request.testBudget ?? (maxTestsDefault ? { first: maxTestsDefault } : undefined);
  const coverage = request.coverage === true;
  const limits = { ...defaults, ...request.limits };
  // Tracing slows hot loops several-fold; a program must not time out only because it was traced.
  const scale = coverage ? coverageTimeoutFactor : 1;
  return {
    tests,
    indices: selectTests(count, budget),
    limits,
    wall: { testMs: limits.timeoutMs * scale, totalMs: limits.totalTimeoutMs * scale, scale },
    coverage,
    // Coverage needs every test: FGO masks code that no test executed.
    stopOnFirstFailure: request.stopOnFirstFailure === true && !coverage,
    program: request.program,
    judged: tests.kind === 'assert' && assertJudge === 'process',
  };
}

/** The job line for the harness. Expected outputs are never sent: the child cannot see them. */
export function buildJob(plan: Plan, request: ExecutionRequest, settings: JobSettings): string {
  const { tests, indices, limits, wall } = plan;
  const job: Record<string, unknown> = {
    kind: tests.kind,
    program: plan.program,
    coverage: plan.coverage,
    hitCap: settings.hitCap,
    coverageBackend: settings.coverageBackend,
    maxOutputBytes: limits.maxOutputBytes,
    // Return values are not capped by maxOutputBytes; the record cap only stops floods.
    maxRecordBytes: Math.max(32 * 1024 * 1024, 4 * limits.maxOutputBytes),
    memoryMb: limits.memoryMb,
    fileSizeMb: settings.fileSizeMb,
    cpuSeconds: Math.ceil(wall.totalMs / 1000) + 1,
    maxProcesses: settings.maxProcesses,
    env: settings.env,
  };
  if (request.preamble) job.preamble = request.preamble;
  if (request.epilogue) job.epilogue = request.epilogue;
  if (tests.kind === 'stdio') job.inputs = indices.map((i) => tests.cases[i]!.input);
  else if (tests.kind === 'call') {
    job.inputs = indices.map((i) => tests.inputs[i]);
    job.fnName = tests.fnName;
    if (tests.className) job.className = tests.className;
  } else {
    job.cases = indices.map((i) => tests.cases[i]);
    if (tests.setup) job.setup = tests.setup;
    if (tests.entryPoint) job.entryPoint = tests.entryPoint;
    job.judge = plan.judged ? 'process' : 'in-process';
  }
  return encodeWire(job);
}
