import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, join } from 'node:path';
import type { PythonInfo } from '@stepcoder/executor-python';
import type { StepcoderConfig } from './config.js';

/** One line of `stepcoder doctor` (and of the start-up checks). */
export interface CheckResult {
  /** Short name: `node`, `python3`, `isolated-vm`, `gemm`, `bubblewrap`, `tfjs-node`, `redis`. */
  name: string;
  ok: boolean;
  /** The configuration at hand needs it: a failed required check stops a run (doctor exits 1). */
  required: boolean;
  /** One line: what was found, or what is missing and why. */
  summary: string;
  /** What to do about a failed check. */
  fix?: string;
  /** More (`--verbose`): BLAS libraries tried, bwrap's stderr and command line… */
  detail?: string;
}

/** What a configuration needs from the machine (derived from config; see {@link needsOf}). */
export interface Needs {
  /** The Python executor runs locally: python3 is required. */
  python: boolean;
  pythonPath: string;
  /** The JavaScript executor runs locally: isolated-vm is required. */
  isolatedVm: boolean;
  /** How the Python executor isolates candidates (`none`: no local Python executor). */
  sandbox: 'namespaces' | 'auto' | 'rlimits' | 'wrapper' | 'none';
  bwrapPath: string;
  /** The wasm backend may run (`auto`/`wasm`): which GEMM it gets is worth a line. */
  gemm: boolean;
  /** `backend: tensorflow`: @tensorflow/tfjs-node(-gpu) is required. */
  tensorflow: boolean;
  /** executor `queue` on a local Redis: redis-server is required. */
  redis: boolean;
}

/**
 * Needs of `config`; without one, of the default setup: both built-in executors (python3 and
 * isolated-vm) and namespaces, the default sandbox.
 */
export function needsOf(config?: StepcoderConfig): Needs {
  if (!config) {
    return {
      python: true,
      pythonPath: 'python3',
      isolatedVm: true,
      sandbox: 'namespaces',
      bwrapPath: 'bwrap',
      gemm: true,
      tensorflow: false,
      redis: false,
    };
  }
  const ref = config.executor ?? (config.data.language === 'python' ? 'python' : 'js');
  const name = typeof ref === 'string' ? ref : ref.name;
  const options = (typeof ref === 'string' ? {} : (ref.options ?? {})) as Record<string, unknown>;
  const python = name === 'python';
  const wrapper = Array.isArray(options.wrapper) && options.wrapper.length > 0;
  const sandbox = (options.sandbox as Needs['sandbox'] | undefined) ?? 'namespaces';
  const redisUrl = typeof options.redis === 'string' ? options.redis : '';
  return {
    python,
    pythonPath: typeof options.pythonPath === 'string' ? options.pythonPath : 'python3',
    isolatedVm: name === 'js',
    sandbox: !python ? 'none' : wrapper ? 'wrapper' : sandbox,
    bwrapPath: typeof options.bwrapPath === 'string' ? options.bwrapPath : 'bwrap',
    gemm: config.backend === 'auto' || config.backend === 'wasm',
    tensorflow: config.backend === 'tensorflow',
    redis: name === 'queue' && /^rediss?:\/\/(localhost|127\.|\[::1\])/.test(redisUrl),
  };
}

/** Shared by the checks of one run: the interpreter the python3 check found, for the sandbox probe. */
export interface CheckContext {
  python?: PythonInfo;
}

const requireHere = createRequire(import.meta.url);

function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0]!;
}

/** A command on PATH (absolute), or undefined. */
export function onPath(command: string, searchPath = process.env.PATH ?? ''): string | undefined {
  for (const dir of searchPath.split(delimiter)) {
    if (!dir) continue;
    try {
      accessSync(join(dir, command), constants.X_OK);
      return join(dir, command);
    } catch {}
  }
  return undefined;
}

function versionAtLeast(version: string, min: string): boolean {
  const a = version.replace(/^v/, '').split('.').map(Number);
  const b = min.split('.').map(Number);
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) > (b[i] ?? 0);
  }
  return true;
}

/** Node against `engines.node` of this package (the same `>=20.19` as the repository root's). */
export function checkNode(): CheckResult {
  const engines = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).engines as
    | { node?: string }
    | undefined;
  const min = /(\d+(?:\.\d+)*)/.exec(engines?.node ?? '>=20.19')?.[1] ?? '20.19';
  const ok = versionAtLeast(process.versions.node, min);
  return {
    name: 'node',
    ok,
    required: true,
    summary: `${process.version} (needs >= ${min})`,
    ...(ok ? {} : { fix: `install Node.js ${min} or newer (nvm install 22, or nodejs.org)` }),
    detail: process.execPath,
  };
}

/** python3 (or the configured pythonPath) through the Python executor's own probe: 3.8+, POSIX. */
export async function checkPython(needs: Needs, ctx: CheckContext): Promise<CheckResult> {
  const { ensurePython } = await import('@stepcoder/executor-python');
  try {
    const info = await ensurePython(needs.pythonPath);
    ctx.python = info;
    return {
      name: 'python3',
      ok: true,
      required: needs.python,
      summary: `${info.version.join('.')} (${info.executable})`,
    };
  } catch (err) {
    return {
      name: 'python3',
      ok: false,
      required: needs.python,
      summary: `${needs.pythonPath}: not usable${needs.python ? ' (the Python executor needs it)' : ''}`,
      fix: "apt-get install python3 (3.8+), or set the Python executor's pythonPath option",
      detail: firstLine(err),
    };
  }
}

/**
 * What the probe process runs: isolated-vm loaded from the path given, a tiny isolate started,
 * one answer printed as JSON. It runs in its own Node process because the doctor must survive what
 * it diagnoses: a mis-built addon can abort on load, and isolated-vm 5 can abort at process
 * teardown (`IsolateEnvironment::GetCurrent(): Assertion environment != nullptr`, seen once in CI
 * after an isolate was disposed) — neither may take `stepcoder doctor` or a run's start-up check
 * down with it.
 */
const ISOLATE_PROBE = `
const ivm = require(process.argv[1]);
const isolate = new ivm.Isolate({ memoryLimit: 8 });
const context = isolate.createContextSync();
const answer = isolate.compileScriptSync('6 * 7').runSync(context);
context.release();
isolate.dispose();
process.stdout.write(JSON.stringify({ answer }) + '\\n');
`;

/** How the probe process ended, in words ("exit code 1", "signal SIGABRT"). */
function howEnded(run: { status: number | null; signal: NodeJS.Signals | null; error?: Error }): string {
  if (run.error) return run.error.message;
  return run.signal ? `signal ${run.signal}` : `exit code ${run.status}`;
}

/**
 * isolated-vm as the JavaScript executor loads it, and a tiny isolate actually started — in a
 * child Node process (see {@link ISOLATE_PROBE}). The check passes on the isolate's answer; a probe
 * that answered and then died at exit passes with that in `detail`.
 */
export function checkIsolatedVm(needs: Needs): CheckResult {
  let entry: string;
  let version: string;
  try {
    const from = createRequire(requireHere.resolve('@stepcoder/executor-js/package.json'));
    entry = from.resolve('isolated-vm');
    version = (from('isolated-vm/package.json') as { version: string }).version;
  } catch (err) {
    return isolatedVmFailed(needs, firstLine(err));
  }
  return probeIsolatedVm(entry, version, needs);
}

function isolatedVmFailed(needs: Needs, why: string, detail = why): CheckResult {
  return {
    name: 'isolated-vm',
    ok: false,
    required: needs.isolatedVm,
    summary: `not usable: ${why.slice(0, 160)}`,
    fix: 'pnpm rebuild isolated-vm (pnpm 10 skips build scripts unless allowed: `pnpm approve-builds`, or onlyBuiltDependencies); it compiles with python3, make and a C++ compiler',
    detail,
  };
}

/** The probe of {@link checkIsolatedVm} on the isolated-vm module at `entry` (exported for tests). */
export function probeIsolatedVm(entry: string, version: string, needs: Needs): CheckResult {
  const failed = (why: string, detail?: string) => isolatedVmFailed(needs, why, detail);
  const run = spawnSync(process.execPath, ['-e', ISOLATE_PROBE, entry], {
    encoding: 'utf8',
    timeout: 30_000,
    // The probe inherits no loader flags (tsx, --import): it is plain CommonJS.
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  const stderr = (run.stderr ?? '').trim();
  const answerLine = (run.stdout ?? '').trim().split('\n').pop() ?? '';
  let answer: unknown;
  try {
    answer = (JSON.parse(answerLine) as { answer?: unknown }).answer;
  } catch {
    const cause = stderr.split('\n').find((l) => /Error|Assertion|error:/.test(l)) ?? stderr.split('\n')[0];
    return failed(
      `the probe process ended with ${howEnded(run)}${cause ? `: ${cause}` : ''}`,
      [`probe: ${process.execPath} -e <isolate probe> ${entry}`, `ended: ${howEnded(run)}`, stderr]
        .filter(Boolean)
        .join('\n'),
    );
  }
  if (answer !== 42) return failed(`an isolate computed 6 * 7 = ${String(answer)}`);
  const diedAfter = run.status !== 0 ? `the probe answered, then ended with ${howEnded(run)}` : undefined;
  return {
    name: 'isolated-vm',
    ok: true,
    required: needs.isolatedVm,
    summary: `${version}, an isolate starts${diedAfter ? ` (${diedAfter})` : ''}`,
    detail: [`loaded from ${entry}`, diedAfter, diedAfter ? stderr : undefined].filter(Boolean).join('\n'),
  };
}

/** Which GEMM the wasm backend's matrix products get, as {@link gemmDiagnostics} reports it. */
export interface GemmDiagnostics {
  /** The native kernels are loaded (with an optimised BLAS, or their built-in SGEMM). */
  native: boolean;
  /** 'blas' (a dlopen'd OpenBLAS/MKL/BLIS) or 'builtin' (the package's own SGEMM), when native. */
  kind?: 'blas' | 'builtin';
  /** One line: "native kernels (OpenBLAS 0.3.21 Haswell, 1 BLAS thread)" or "wasm's own (XNNPACK)". */
  gemm: string;
  /** Why not an optimised BLAS (native kernels off, or the built-in SGEMM instead), when so. */
  reason?: string;
  /** The BLAS file in use. */
  library?: string;
  /** Every library tried, and the loader's error for each that failed. */
  tried?: string[];
  fix?: string;
}

/** `nativeKernelsDiagnostics()` of @stepcoder/model, where this build has it (typed loosely on purpose). */
type ModelDiagnostics = () => Promise<
  | {
      installed: true;
      diagnostics: {
        gemm: { reason?: string } | null;
        tried: ReadonlyArray<{ library: string; ok: boolean; error?: string }>;
        summary?: string;
      };
    }
  | { installed: false; error: string }
>;

const OPENBLAS_FIX =
  'apt-get install libopenblas0-pthread (an optimised BLAS: faster GEMM), or STEPCODER_BLAS=/path/to/libopenblas.so';

/**
 * THE adapter to the native kernels' report, the one function to change as @stepcoder/native-kernels
 * grows. Which GEMM a run gets: the wasm backend activated without native kernels, then
 * `enableNativeKernels()` of @stepcoder/model — the same load a run does (addon, then a BLAS
 * dlopen'd by name, honouring STEPCODER_BLAS) — and wasm's own kernels put back so that a run's
 * `initBackend` starts clean. The tried libraries come from `nativeKernelsDiagnostics()` where
 * @stepcoder/model has it, else from the load error's details.
 */
export async function gemmDiagnostics(): Promise<GemmDiagnostics> {
  const wasmOwn = "wasm's own (XNNPACK, 128-bit SIMD)";
  if (process.env.STEPCODER_NATIVE === '0') {
    return { native: false, gemm: wasmOwn, reason: 'native kernels turned off by STEPCODER_NATIVE=0' };
  }
  const model = await import('@stepcoder/model');
  await model.createWasmBackend({ native: false });
  let result: GemmDiagnostics;
  try {
    const info = (await model.enableNativeKernels()) as { describe: string; library: string; kind?: string };
    const kind = info.kind === 'builtin' ? 'builtin' : 'blas';
    result = {
      native: true,
      kind,
      gemm: info.describe,
      library: info.library,
      ...(kind === 'builtin' ? { fix: OPENBLAS_FIX } : {}),
    };
  } catch (err) {
    const details = (err as { details?: { failures?: unknown; summary?: unknown } }).details;
    const message = firstLine(err);
    const notBuilt = /not built|failed to load|not installed|failed to import/.test(message);
    result = {
      native: false,
      gemm: wasmOwn,
      reason:
        typeof details?.summary === 'string' ? details.summary : message.replace(/; install one .*$/, ''),
      tried: Array.isArray(details?.failures) ? (details.failures as string[]) : undefined,
      fix: notBuilt
        ? 'node scripts/build-native.mjs in packages/native-kernels (needs a C compiler and Node headers)'
        : OPENBLAS_FIX,
    };
  } finally {
    model.disableNativeKernels();
  }
  const diagnose = (model as unknown as { nativeKernelsDiagnostics?: ModelDiagnostics })
    .nativeKernelsDiagnostics;
  if (typeof diagnose === 'function') {
    try {
      const d = await diagnose();
      if (d.installed) {
        result.tried = d.diagnostics.tried.map(
          (t) => `${t.library}: ${t.ok ? 'loaded' : (t.error ?? 'failed')}`,
        );
        if (result.kind !== 'blas') result.reason ??= d.diagnostics.gemm?.reason;
      }
    } catch {}
  }
  return result;
}

/** Native kernels built, and which GEMM they use (informational: wasm's own GEMM still works). */
export async function checkGemm(): Promise<CheckResult> {
  try {
    const d = await gemmDiagnostics();
    const detail = [
      d.library ? `library: ${d.library}` : undefined,
      ...(d.tried ?? []).map((t) => `tried ${t}`),
      process.env.STEPCODER_BLAS ? `STEPCODER_BLAS=${process.env.STEPCODER_BLAS}` : undefined,
      d.kind === 'builtin' ? `for an optimised BLAS: ${OPENBLAS_FIX}` : undefined,
    ].filter((l): l is string => l !== undefined);
    return {
      name: 'gemm',
      ok: d.native,
      required: false,
      summary: d.reason ? `${d.gemm}: ${d.reason}` : d.gemm,
      ...(d.fix && !d.native ? { fix: d.fix } : {}),
      ...(detail.length > 0 ? { detail: detail.join('\n') } : {}),
    };
  } catch (err) {
    return {
      name: 'gemm',
      ok: false,
      required: false,
      summary: `the wasm backend did not start: ${firstLine(err)}`,
      detail: err instanceof Error ? err.stack : String(err),
    };
  }
}

/**
 * bubblewrap: namespaces really start, probed by the Python executor itself (`probeSandbox`: the
 * workers' bwrap arguments, running the interpreter the python3 check found, or `true`).
 */
export async function checkSandbox(needs: Needs, ctx: CheckContext): Promise<CheckResult> {
  const required = needs.sandbox === 'namespaces';
  if (needs.sandbox === 'rlimits' || needs.sandbox === 'wrapper') {
    return {
      name: 'bubblewrap',
      ok: true,
      required: false,
      summary:
        needs.sandbox === 'rlimits'
          ? "not used: the config sets sandbox: 'rlimits' (candidates run without namespaces)"
          : "not used: the config's wrapper isolates the workers",
    };
  }
  const { probeSandbox } = await import('@stepcoder/executor-python');
  const probe = probeSandbox({ bwrapPath: needs.bwrapPath, python: ctx.python });
  const detail = [
    probe.stderr ? `bwrap stderr: ${probe.stderr}` : undefined,
    probe.command ? `command: ${probe.command.join(' ')}` : undefined,
  ]
    .filter(Boolean)
    .join('\n');
  if (probe.ok) {
    const version = spawnSync(probe.bwrap!, ['--version'], { encoding: 'utf8' }).stdout?.trim();
    return {
      name: 'bubblewrap',
      ok: true,
      required,
      summary: `namespaces start (${version || 'bwrap'}, ${probe.bwrap})`,
      ...(detail ? { detail } : {}),
    };
  }
  const missing = probe.bwrap === undefined;
  const optOut =
    "or set sandbox: 'rlimits' in the Python executor's options (executor: { name: python, options: { sandbox: rlimits } }) to run candidates without namespaces";
  return {
    name: 'bubblewrap',
    ok: false,
    required,
    summary: `namespaces unavailable: ${probe.reason}${needs.sandbox === 'auto' ? " (sandbox 'auto' falls back to rlimits)" : ''}`,
    fix: missing
      ? `apt-get install bubblewrap, ${optOut}`
      : `allow unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1; Ubuntu 24.04: kernel.apparmor_restrict_unprivileged_userns=0) or run where a container allows them, ${optOut}`,
    ...(detail ? { detail } : {}),
  };
}

/** @tensorflow/tfjs-node(-gpu) installed (the `tensorflow` backend) and a CUDA driver visible. */
export function checkTensorflow(needs: Needs): CheckResult {
  let from = requireHere;
  try {
    from = createRequire(requireHere.resolve('@stepcoder/model/package.json'));
  } catch {}
  const installed = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'].filter((pkg) => {
    try {
      from.resolve(pkg);
      return true;
    } catch {
      return false;
    }
  });
  let cuda = 'no CUDA driver';
  if (existsSync('/proc/driver/nvidia/version')) {
    const head = readFileSync('/proc/driver/nvidia/version', 'utf8').split('\n')[0] ?? '';
    cuda = `CUDA driver: ${/Kernel Module\s+([\d.]+)/.exec(head)?.[1] ?? 'present'}`;
  } else if (onPath('nvidia-smi')) {
    const gpus = spawnSync('nvidia-smi', ['-L'], { encoding: 'utf8', timeout: 10000 }).stdout?.trim();
    cuda = gpus ? `GPU: ${gpus.split('\n')[0]}` : 'nvidia-smi found, no GPU listed';
  }
  return {
    name: 'tfjs-node',
    ok: installed.length > 0,
    required: needs.tensorflow,
    summary: `${installed.length > 0 ? installed.join(', ') : 'not installed (optional: the tensorflow backend)'}; ${cuda}`,
    ...(installed.length > 0
      ? {}
      : { fix: 'pnpm add @tensorflow/tfjs-node (or -gpu with CUDA) for backend tensorflow' }),
  };
}

/** redis-server on PATH: the fleet (executor `queue`) keeps its queue in Redis. */
export function checkRedis(needs: Needs): CheckResult {
  const path = onPath('redis-server');
  const version = path
    ? /v=([\d.]+)/.exec(
        spawnSync(path, ['--version'], { encoding: 'utf8', timeout: 10000 }).stdout ?? '',
      )?.[1]
    : undefined;
  return {
    name: 'redis',
    ok: path !== undefined,
    required: needs.redis,
    summary: path
      ? `redis-server ${version ?? ''} (${path})`.replace('  ', ' ')
      : `redis-server not on PATH (${needs.redis ? "executor 'queue' on a local Redis needs it" : "only executor 'queue' uses it"})`,
    ...(path ? {} : { fix: 'apt-get install redis-server (or point executor queue at a running Redis)' }),
  };
}
