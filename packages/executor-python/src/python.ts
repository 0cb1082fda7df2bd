import { spawn } from 'node:child_process';
import { StepcoderError } from '@stepcoder/core';

export const MIN_PYTHON: readonly [number, number] = [3, 8];

export interface PythonInfo {
  /** Absolute interpreter path (`sys.executable`), used for the workers. */
  executable: string;
  version: [number, number, number];
  /** The path that was asked for. */
  requested: string;
  /**
   * Folders the interpreter reads (its prefixes, the folder of its binary, its `sys.path`
   * folders): what a sandbox must show it, read-only.
   */
  paths?: string[];
}

const PROBE = [
  'import sys, json, os',
  'r = os.path.realpath',
  'paths = [sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix, os.path.dirname(r(sys.executable))]',
  'paths += [p for p in sys.path[1:] if p and os.path.isdir(p)]',
  'paths = sorted(set(r(p) for p in paths if p and os.path.isdir(p) and r(p) != "/"))',
  'print(json.dumps({"exe": sys.executable, "v": list(sys.version_info[:3]), "posix": os.name == "posix", "paths": paths}))',
].join('\n');

function unavailable(pythonPath: string, reason: string, cause?: unknown): StepcoderError {
  return new StepcoderError(
    'PYTHON_UNAVAILABLE',
    `Python ${MIN_PYTHON.join('.')}+ is needed to run Python candidates, but ${reason} ` +
      `(tried pythonPath '${pythonPath}'; set the executor's pythonPath option to a python3 interpreter).`,
    { cause, details: { pythonPath } },
  );
}

function probe(pythonPath: string, wrapper: readonly string[]): Promise<PythonInfo> {
  return new Promise((resolve, reject) => {
    // -s: the workers run without the user's site-packages, so the probe does too.
    const [cmd, ...args] = [...wrapper, pythonPath, '-s', '-c', PROBE];
    let out = '';
    let err = '';
    let settled = false;
    // The workers get no PYTHONPATH/PYTHONHOME: neither does the probe, so `paths` matches theirs.
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('PYTHON')));
    const child = spawn(cmd!, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      finish(unavailable(pythonPath, 'it did not answer within 20 s'));
    }, 20000);
    const finish = (result: PythonInfo | StepcoderError) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (result instanceof StepcoderError) reject(result);
      else resolve(result);
    };
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      err += d;
    });
    child.on('error', (e: NodeJS.ErrnoException) => {
      finish(
        unavailable(
          pythonPath,
          e.code === 'ENOENT' ? 'it was not found' : `it could not be started (${e.message})`,
          e,
        ),
      );
    });
    child.on('close', (code) => {
      if (code !== 0) {
        finish(
          unavailable(
            pythonPath,
            `it exited with status ${code}: ${err.trim().slice(0, 300) || '(no output)'}`,
          ),
        );
        return;
      }
      let parsed: { exe?: unknown; v?: unknown; posix?: unknown; paths?: unknown };
      try {
        parsed = JSON.parse(out.trim().split('\n').pop() ?? '');
      } catch {
        finish(unavailable(pythonPath, `it printed something unexpected: ${out.slice(0, 200)}`));
        return;
      }
      const v = parsed.v as [number, number, number];
      if (!Array.isArray(v) || v[0]! < MIN_PYTHON[0] || (v[0] === MIN_PYTHON[0] && v[1]! < MIN_PYTHON[1])) {
        finish(
          unavailable(pythonPath, `it is Python ${Array.isArray(v) ? v.join('.') : '?'}, which is too old`),
        );
        return;
      }
      if (parsed.posix !== true) {
        finish(unavailable(pythonPath, 'it is not a POSIX Python (the harness needs fork and rlimits)'));
        return;
      }
      const exe = typeof parsed.exe === 'string' && parsed.exe ? parsed.exe : pythonPath;
      const paths = Array.isArray(parsed.paths)
        ? parsed.paths.filter((p): p is string => typeof p === 'string' && p.startsWith('/'))
        : [];
      finish({ executable: exe, version: v, requested: pythonPath, paths });
    });
  });
}

const cache = new Map<string, Promise<PythonInfo>>();

/**
 * Check that `pythonPath` is a usable Python 3.8+ and resolve it to an absolute interpreter path.
 * Throws a StepcoderError with code `PYTHON_UNAVAILABLE` naming the path tried. Successful
 * results are cached per path and wrapper.
 */
export function ensurePython(pythonPath = 'python3', wrapper: readonly string[] = []): Promise<PythonInfo> {
  const key = JSON.stringify([pythonPath, wrapper]);
  let pending = cache.get(key);
  if (!pending) {
    pending = probe(pythonPath, wrapper);
    cache.set(key, pending);
    // A failure is not cached: the interpreter may be installed while the process runs.
    pending.catch(() => cache.delete(key));
  }
  return pending;
}
