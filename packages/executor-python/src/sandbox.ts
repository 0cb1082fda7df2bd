import { spawnSync } from 'node:child_process';
import { accessSync, constants, lstatSync, readlinkSync, statSync } from 'node:fs';
import { delimiter, dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type SandboxLevel, StepcoderError } from '@stepcoder/core';
import { ensurePython, type PythonInfo } from './python.js';

/** Where the harness folder is mounted inside the sandbox (read-only). */
export const SANDBOX_HARNESS_DIR = '/stepcoder/python';

/** The package's `python/` folder (the harness), bound read-only at {@link SANDBOX_HARNESS_DIR}. */
const HARNESS_DIR = fileURLToPath(new URL('../python', import.meta.url));

/** Top-level system folders an interpreter may need (read-only); symlinks are recreated. */
const SYSTEM_DIRS = ['/usr', '/bin', '/sbin', '/lib', '/lib64', '/lib32', '/libx32'];
/** Files of /etc the dynamic loader and the stdlib read; nothing else of /etc is visible. */
const ETC_FILES = [
  '/etc/ld.so.cache',
  '/etc/ld.so.conf',
  '/etc/ld.so.conf.d',
  '/etc/alternatives',
  '/etc/localtime',
  '/etc/mime.types',
];

/** How the workers of one executor are isolated, decided once per executor. */
export interface SandboxPlan {
  level: SandboxLevel;
  /** Command prefix of each worker (bwrap and its arguments, or the user's wrapper). */
  prefix: string[];
  /** Harness path as the worker sees it. */
  harnessPath: string;
  /** Interpreter as the workers see it. */
  python: PythonInfo;
  /** Why namespaces are off, when `auto` fell back to rlimits. */
  fallback?: string;
}

function exists(path: string): 'dir' | 'link' | 'file' | undefined {
  try {
    const st = lstatSync(path);
    return st.isSymbolicLink() ? 'link' : st.isDirectory() ? 'dir' : 'file';
  } catch {
    return undefined;
  }
}

/**
 * bwrap arguments for one worker: every namespace bwrap offers (network, PID, mount, IPC, UTS,
 * cgroup), a root file system with only the system folders and the interpreter's own folders
 * (read-only), a fresh /proc, a minimal /dev, an empty private /tmp, and the harness folder.
 * Run as root, bwrap creates no user namespace, so the worker stays root inside and drops each
 * candidate to an unprivileged uid (with only the capabilities that needs); otherwise a user
 * namespace is required and the worker and candidate share the caller's uid.
 */
export function bwrapArgs(bwrap: string, python: PythonInfo, harnessDir: string, isRoot: boolean): string[] {
  const args = [
    bwrap,
    '--die-with-parent',
    '--unshare-ipc',
    '--unshare-pid',
    '--unshare-net',
    '--unshare-uts',
  ];
  args.push('--unshare-cgroup-try', '--hostname', 'sandbox');
  if (isRoot) {
    for (const cap of [
      'CAP_SETUID',
      'CAP_SETGID',
      'CAP_KILL',
      'CAP_CHOWN',
      'CAP_DAC_OVERRIDE',
      'CAP_FOWNER',
    ]) {
      args.push('--cap-add', cap);
    }
  } else {
    args.push('--unshare-user');
  }
  for (const dir of SYSTEM_DIRS) {
    const kind = exists(dir);
    if (kind === 'link') args.push('--symlink', readlinkSync(dir), dir);
    else if (kind === 'dir') args.push('--ro-bind', dir, dir);
  }
  for (const file of ETC_FILES) if (exists(file)) args.push('--ro-bind', file, file);
  // Folders inside one already bound (a system folder or another of the interpreter's) are
  // visible through it.
  const inside = (p: string, dir: string) => p === dir || p.startsWith(`${dir}/`);
  const own = [...new Set(python.paths ?? [])].filter((p) => !SYSTEM_DIRS.some((d) => inside(p, d)));
  for (const path of own) {
    if (!own.some((other) => other !== path && inside(path, other))) args.push('--ro-bind', path, path);
  }
  args.push(
    '--proc',
    '/proc',
    '--dev',
    '/dev',
    '--tmpfs',
    '/tmp',
    '--ro-bind',
    harnessDir,
    SANDBOX_HARNESS_DIR,
  );
  args.push('--chdir', '/tmp', '--');
  return args;
}

let warned = false;

/** One warning per process when a Linux host runs candidates without namespaces. */
function warnOnce(message: string): void {
  if (warned) return;
  warned = true;
  process.emitWarning(message, { code: 'STEPCODER_NO_NAMESPACES' });
}

/**
 * `bwrapPath` as an absolute path: a name is looked up on the caller's PATH (`searchPath`, default
 * `process.env.PATH`, or the workers' fixed PATH when it is unset), so the bwrap the user sees is
 * the one used. Undefined when it is not there (or not executable).
 */
export function resolveBwrap(
  bwrapPath: string,
  searchPath = process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
): string | undefined {
  const executable = (file: string) => {
    try {
      accessSync(file, constants.X_OK);
      return statSync(file).isFile();
    } catch {
      return false;
    }
  };
  if (bwrapPath.includes('/')) {
    const file = isAbsolute(bwrapPath) ? bwrapPath : resolve(bwrapPath);
    return executable(file) ? file : undefined;
  }
  for (const dir of searchPath.split(delimiter)) {
    if (dir && executable(join(dir, bwrapPath))) return join(dir, bwrapPath);
  }
  return undefined;
}

export interface SandboxProbe {
  /** True when bwrap started a process in fresh namespaces (and the interpreter ran in it). */
  ok: boolean;
  /** The bwrap binary used (absolute), when found. */
  bwrap?: string;
  /** Why namespaces are unavailable (one line), when not ok. */
  reason?: string;
  /** bwrap's stderr, trimmed (empty when it had none). */
  stderr?: string;
  /** The workers' command prefix: bwrap and its arguments (the probe program follows it). */
  prefix?: string[];
  /** The command that was tried: `prefix`, then the probe program. */
  command?: string[];
}

/**
 * Start the interpreter (or `true` without one) in the sandbox the workers get, with the same bwrap
 * arguments: whether namespaces really start on this host, and bwrap's own words when they do not.
 */
export function probeSandbox(options: {
  bwrapPath: string;
  python?: PythonInfo;
  harnessDir?: string;
  searchPath?: string;
}): SandboxProbe {
  if (process.platform !== 'linux') {
    return { ok: false, reason: `namespaces need Linux (this is ${process.platform})` };
  }
  const bwrap = resolveBwrap(options.bwrapPath, options.searchPath);
  if (!bwrap) {
    return {
      ok: false,
      reason: options.bwrapPath.includes('/')
        ? `bubblewrap (${options.bwrapPath}) is not an executable file`
        : `bubblewrap ('${options.bwrapPath}') is not on PATH`,
    };
  }
  const isRoot = process.getuid?.() === 0;
  const python = options.python ?? { executable: 'true', version: [0, 0, 0], requested: 'true', paths: [] };
  const prefix = bwrapArgs(bwrap, python, options.harnessDir ?? HARNESS_DIR, isRoot);
  const program = options.python ? [python.executable, '-s', '-c', 'print(1)'] : ['true'];
  const command = [...prefix, ...program];
  const run = spawnSync(command[0]!, command.slice(1), {
    encoding: 'utf8',
    timeout: 20000,
    env: { PATH: '/usr/local/bin:/usr/bin:/bin' },
  });
  const stderr = (run.stderr ?? '').trim();
  const tried = { bwrap, prefix, command, stderr };
  if (run.error)
    return { ok: false, ...tried, reason: `${bwrap} could not be started (${run.error.message})` };
  if (run.status !== 0 || (options.python && run.stdout.trim() !== '1')) {
    const said = stderr.split('\n')[0]?.slice(0, 300) || '(no output)';
    return { ok: false, ...tried, reason: `${bwrap} failed (status ${run.status}): ${said}` };
  }
  return { ok: true, ...tried };
}

/** What to do when namespaces are required and unavailable: the message names the options. */
export const SANDBOX_FIX =
  "install bubblewrap (Debian/Ubuntu: apt-get install bubblewrap) and allow unprivileged user namespaces, or set sandbox: 'rlimits' in the Python executor's options (executor: { name: python, options: { sandbox: rlimits } }) to run candidates WITHOUT namespace isolation (they can then read the worker's files and use the network), or sandbox: 'auto' to fall back to rlimits with a warning";

export interface SandboxOptions {
  sandbox: 'auto' | 'namespaces' | 'rlimits';
  bwrapPath: string;
  pythonPath: string;
  wrapper?: string[];
}

/**
 * Decide how workers are isolated: `namespaces` (the default: bwrap, required: an error naming the
 * options to set when they do not start), `auto` (namespaces where Linux allows them, otherwise
 * rlimits only with one process warning) or `rlimits` (explicitly none). A user `wrapper` is used
 * as given (level `wrapper`).
 */
export async function planSandbox(options: SandboxOptions, harnessPath: string): Promise<SandboxPlan> {
  const python = await ensurePython(options.pythonPath, options.wrapper ?? []);
  if (options.wrapper && options.wrapper.length > 0) {
    return { level: 'wrapper', prefix: options.wrapper, harnessPath, python };
  }
  if (options.sandbox === 'rlimits') return { level: 'rlimits', prefix: [], harnessPath, python };
  const probe = probeSandbox({ bwrapPath: options.bwrapPath, python, harnessDir: dirname(harnessPath) });
  if (probe.ok) {
    return {
      level: 'namespaces',
      prefix: probe.prefix!,
      harnessPath: `${SANDBOX_HARNESS_DIR}/harness.py`,
      python,
    };
  }
  const reason = probe.reason!;
  if (options.sandbox !== 'auto') {
    throw new StepcoderError(
      'EXECUTOR_INFRA',
      `Python sandbox 'namespaces' is unavailable: ${reason}. To fix: ${SANDBOX_FIX}.`,
      { details: { bwrapPath: options.bwrapPath, reason, stderr: probe.stderr, option: 'sandbox' } },
    );
  }
  warnOnce(
    `Python candidates run WITHOUT namespace isolation (rlimits only: they can read the worker's files and use the network) because ${reason}. Install bubblewrap (apt-get install bubblewrap) or set sandbox: 'rlimits' to silence this.`,
  );
  return { level: 'rlimits', prefix: [], harnessPath, python, fallback: reason };
}
