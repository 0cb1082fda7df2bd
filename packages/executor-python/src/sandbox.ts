import { spawnSync } from 'node:child_process';
import { lstatSync, readlinkSync } from 'node:fs';
import { dirname } from 'node:path';
import { type SandboxLevel, StepcoderError } from '@stepcoder/core';
import { ensurePython, type PythonInfo } from './python.js';

/** Where the harness folder is mounted inside the sandbox (read-only). */
export const SANDBOX_HARNESS_DIR = '/stepcoder/python';

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

/** Check that bwrap can start the interpreter; returns why not, or undefined. */
function tryBwrap(prefix: string[], python: PythonInfo): string | undefined {
  const run = spawnSync(prefix[0]!, [...prefix.slice(1), python.executable, '-s', '-c', 'print(1)'], {
    encoding: 'utf8',
    timeout: 20000,
    env: { PATH: '/usr/local/bin:/usr/bin:/bin' },
  });
  if (run.error) return `${prefix[0]} could not be started (${run.error.message})`;
  if (run.status !== 0 || run.stdout.trim() !== '1')
    return `${prefix[0]} failed (status ${run.status}): ${run.stderr.trim().slice(0, 300)}`;
  return undefined;
}

export interface SandboxOptions {
  sandbox: 'auto' | 'namespaces' | 'rlimits';
  bwrapPath: string;
  pythonPath: string;
  wrapper?: string[];
}

/**
 * Decide how workers are isolated: `namespaces` (bwrap) where Linux allows it, otherwise, for
 * `auto`, rlimits only with one process warning. A user `wrapper` is used as given (level
 * `wrapper`). `namespaces` asked for explicitly and unavailable is an error.
 */
export async function planSandbox(options: SandboxOptions, harnessPath: string): Promise<SandboxPlan> {
  const python = await ensurePython(options.pythonPath, options.wrapper ?? []);
  if (options.wrapper && options.wrapper.length > 0) {
    return { level: 'wrapper', prefix: options.wrapper, harnessPath, python };
  }
  if (options.sandbox === 'rlimits') return { level: 'rlimits', prefix: [], harnessPath, python };
  let reason: string | undefined;
  if (process.platform !== 'linux') reason = `namespaces need Linux (this is ${process.platform})`;
  const isRoot = process.getuid?.() === 0;
  const prefix = bwrapArgs(options.bwrapPath, python, dirname(harnessPath), isRoot);
  reason ??= tryBwrap(prefix, python);
  if (reason === undefined) {
    return { level: 'namespaces', prefix, harnessPath: `${SANDBOX_HARNESS_DIR}/harness.py`, python };
  }
  if (options.sandbox === 'namespaces') {
    throw new StepcoderError('EXECUTOR_INFRA', `Python sandbox 'namespaces' is unavailable: ${reason}`, {
      details: { bwrapPath: options.bwrapPath },
    });
  }
  warnOnce(
    `Python candidates run WITHOUT namespace isolation (rlimits only: they can read the worker's files and use the network) because ${reason}. Install bubblewrap (apt-get install bubblewrap) or set sandbox: 'rlimits' to silence this.`,
  );
  return { level: 'rlimits', prefix: [], harnessPath, python, fallback: reason };
}
