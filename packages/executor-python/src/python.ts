import { spawn } from 'node:child_process';
import { StepcoderError } from '@stepcoder/core';

export const MIN_PYTHON: readonly [number, number] = [3, 8];

export interface PythonInfo {
  /** Absolute interpreter path (`sys.executable`), used for the workers. */
  executable: string;
  version: [number, number, number];
  /** The path that was asked for. */
  requested: string;
}

const PROBE =
  'import sys, json; print(json.dumps({"exe": sys.executable, "v": list(sys.version_info[:3]), "posix": __import__("os").name == "posix"}))';

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
    const [cmd, ...args] = [...wrapper, pythonPath, '-c', PROBE];
    let out = '';
    let err = '';
    let settled = false;
    const child = spawn(cmd!, args, { stdio: ['ignore', 'pipe', 'pipe'] });
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
      let parsed: { exe?: unknown; v?: unknown; posix?: unknown };
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
      finish({ executable: exe, version: v, requested: pythonPath });
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
