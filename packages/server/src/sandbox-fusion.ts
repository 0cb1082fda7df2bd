import { type ExecutionLimits, type ExecutionResult, type Language, StepcoderError } from '@stepcoder/core';
import type { RunCodeRequest } from './schemas.js';

/**
 * SandboxFusion's `/run_code` contract (bytedance/SandboxFusion, sandbox/server/sandbox_api.py and
 * sandbox/runners/types.py) on top of our executors: the program runs as one stdio test whose
 * expected output is ignored, so what comes back is what the program printed and how it ended.
 */

/** SandboxFusion language names this server runs, and the executor language behind each. */
export const RUN_CODE_LANGUAGES: Readonly<Record<string, Language>> = {
  python: 'python',
  nodejs: 'javascript',
  typescript: 'typescript',
};

export type CommandRunStatus = 'Finished' | 'Error' | 'TimeLimitExceeded';

export interface CommandRunResult {
  status: CommandRunStatus;
  execution_time: number | null;
  return_code: number | null;
  stdout: string | null;
  stderr: string | null;
}

export interface RunCodeResponse {
  status: 'Success' | 'Failed' | 'SandboxError';
  message: string;
  compile_result: CommandRunResult | null;
  run_result: CommandRunResult | null;
  executor_pod_name: string | null;
  files: Record<string, string>;
}

/** SandboxFusion's defaults (`RunCodeRequest`): 10 s to compile, 10 s to run. */
const DEFAULT_TIMEOUT_S = 10;

export interface PlannedRun {
  language: Language;
  program: string;
  stdin: string;
  limits: Partial<ExecutionLimits>;
  preamble?: string;
}

/** Check a `/run_code` request against what this server supports and turn it into a run. */
export function planRunCode(req: RunCodeRequest): PlannedRun {
  const language = RUN_CODE_LANGUAGES[req.language];
  if (!language) {
    throw new StepcoderError(
      'UNSUPPORTED_LANGUAGE',
      `language: '${req.language}' is not supported by this server; supported: ${Object.keys(RUN_CODE_LANGUAGES).join(', ')}`,
      { details: { path: 'language' } },
    );
  }
  if (req.fetch_files && req.fetch_files.length > 0) {
    throw new StepcoderError(
      'UNSUPPORTED_LANGUAGE',
      'fetch_files: returning files written by the program is not supported; print what you need',
      { details: { path: 'fetch_files' } },
    );
  }
  const files = Object.entries(req.files ?? {}).filter((e): e is [string, string] => e[1] !== null);
  if (files.length > 0 && language !== 'python') {
    throw new StepcoderError(
      'UNSUPPORTED_LANGUAGE',
      `files: input files are supported for python only (the ${req.language} runtime has no file system)`,
      { details: { path: 'files' } },
    );
  }
  const runMs = Math.round((req.run_timeout ?? DEFAULT_TIMEOUT_S) * 1000);
  const compileMs = Math.round((req.compile_timeout ?? DEFAULT_TIMEOUT_S) * 1000);
  const limits: Partial<ExecutionLimits> = { timeoutMs: runMs, totalTimeoutMs: runMs + compileMs };
  // SandboxFusion's -1 means "no limit of its own": ours then applies its default.
  if (req.memory_limit_MB !== undefined && req.memory_limit_MB > 0) {
    limits.memoryMb = Math.max(16, req.memory_limit_MB);
  }
  return {
    language,
    program: req.code,
    stdin: req.stdin ?? '',
    limits,
    preamble: files.length > 0 ? filesPreamble(files) : undefined,
  };
}

/**
 * Python that writes the request's files (base64) into a fresh private directory and makes it the
 * working directory, so the program opens them by their relative names. Paths are checked here,
 * in the trusted server: relative, no `..`, no NUL.
 */
function filesPreamble(files: Array<[string, string]>): string {
  for (const [path, content] of files) {
    const parts = path.split('/');
    if (path.startsWith('/') || path.includes('\0') || parts.some((p) => p === '..' || p === '')) {
      throw new StepcoderError(
        'INVALID_REQUEST',
        `files: '${path}' must be a relative path without '..' or empty segments`,
      );
    }
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(content)) {
      throw new StepcoderError('INVALID_REQUEST', `files['${path}']: not base64`);
    }
  }
  return [
    'import base64 as __sf_b64, os as __sf_os, tempfile as __sf_tmp',
    `__sf_os.chdir(__sf_tmp.mkdtemp(prefix="run_code_"))`,
    `for __sf_p, __sf_c in ${JSON.stringify(Object.fromEntries(files))}.items():`,
    '    if __sf_os.path.dirname(__sf_p): __sf_os.makedirs(__sf_os.path.dirname(__sf_p), exist_ok=True)',
    '    with open(__sf_p, "wb") as __sf_f: __sf_f.write(__sf_b64.b64decode(__sf_c))',
    'del __sf_b64, __sf_os, __sf_tmp, __sf_p, __sf_c, __sf_f',
    '',
  ].join('\n');
}

/**
 * The exit status a failed run reported, as the executors word it (`SystemExit(3)`,
 * `process.exit(2)`, `ended with status 5`); 1 for any other failure (an uncaught exception).
 */
function returnCodeOf(message: string | undefined): number {
  const m = message
    ? /SystemExit\((-?\d+)\)|process\.exit\((-?\d+)\)|ended with status (\d+)/.exec(message)
    : null;
  const code = m ? Number(m[1] ?? m[2] ?? m[3]) : Number.NaN;
  return Number.isInteger(code) && code !== 0 ? code : 1;
}

/**
 * The streams of a run that were cut at the output cap, in words (`stdout`, `stderr`, `stdout and
 * stderr`); undefined when nothing was cut.
 */
function cutStreams(result: ExecutionResult): string | undefined {
  const test = result.tests[0];
  const streams = test?.truncatedStreams ?? result.truncatedStreams;
  if (!streams) return result.truncated || test?.truncated ? 'output' : undefined;
  const cut = [streams.stdout && 'stdout', streams.stderr && 'stderr'].filter(Boolean);
  if (cut.length === 0) return result.truncated ? 'output' : undefined;
  return cut.join(' and ');
}

/**
 * Our verdict in SandboxFusion's words (its `parse_run_status` decides the top-level status).
 *
 * Output past the cap (`maxOutputBytes`, the server's `runCodeMaxOutputBytes`) is never answered
 * `Success`. SandboxFusion itself has no convention for it: it reads at most 1 MiB of each stream
 * and returns `Success` / `Finished` with the rest silently gone (sandbox/utils/execution.py
 * `get_output_non_blocking`; bytedance/SandboxFusion#62 reports stdout cut at 160,910 characters
 * with no word of it), so a client comparing stdout scores a correct program as a wrong answer.
 * Here a cut run is SandboxFusion's `SandboxError` (what its `parse_run_status` makes of a
 * command with status `Error`: the sandbox could not deliver the run's result), with
 * `run_result.status: 'Error'`, `return_code: null` and a `message` naming the cut stream and the
 * cap; veRL's `_process_single_case` then reads `sandbox_error` (-1), not `wrong_answer`. A run that
 * also timed out stays `Failed` / `TimeLimitExceeded`, with the same message.
 */
export function toRunCodeResponse(result: ExecutionResult, maxOutputBytes?: number): RunCodeResponse {
  const test = result.tests[0];
  const executionTime = (test?.durationMs ?? result.durationMs) / 1000;
  const stdout = test?.stdout ?? result.stdout;
  const stderr = test?.stderr ?? result.stderr;
  const run = (status: CommandRunStatus, returnCode: number | null, err = stderr): CommandRunResult => ({
    status,
    execution_time: executionTime,
    return_code: returnCode,
    stdout,
    stderr: err,
  });
  const withMessage = result.message
    ? `${stderr}${stderr && !stderr.endsWith('\n') ? '\n' : ''}${result.message}\n`
    : stderr;
  const base = { compile_result: null, executor_pod_name: null, files: {} };
  const cut = result.outcome === 'infra_error' ? undefined : cutStreams(result);
  if (cut) {
    const cap = maxOutputBytes === undefined ? 'the output limit' : `${maxOutputBytes} bytes`;
    const message = `output truncated: the program's ${cut} passed ${cap} (the server's runCodeMaxOutputBytes) and was cut; the output returned is incomplete, so the run is not reported as Success`;
    if (result.outcome === 'timeout') {
      return { ...base, status: 'Failed', message, run_result: run('TimeLimitExceeded', null) };
    }
    return { ...base, status: 'SandboxError', message, run_result: run('Error', null) };
  }
  switch (result.outcome) {
    case 'pass':
    case 'wrong_answer':
      // The expected output was a placeholder: a run that finished normally is a success.
      return { ...base, status: 'Success', message: '', run_result: run('Finished', 0) };
    case 'timeout':
      return { ...base, status: 'Failed', message: '', run_result: run('TimeLimitExceeded', null) };
    case 'compile_error':
    case 'runtime_error':
    case 'memory_limit':
      return {
        ...base,
        status: 'Failed',
        message: '',
        run_result: run('Finished', returnCodeOf(result.message), withMessage),
      };
    case 'infra_error':
      return {
        ...base,
        status: 'SandboxError',
        message: result.message ?? 'executor failure',
        run_result: run('Error', null, withMessage),
      };
  }
}
