/*
 * The PyTorch side of the benchmarks (bench/model.ts, bench/llama.ts): Debian's python3-torch on
 * OpenBLAS (installed with apt-get when root), run as a child with the BLAS thread count pinned in
 * its environment, and the check that refuses a ratio against the reference (netlib) BLAS.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';

/** What every child script (bench/torch_blas.py's blas_report) says about its BLAS. */
export interface TorchBlas {
  torch: string;
  threads: number;
  blas: string;
  blasFiles: string[];
  blasThreads: number | null;
  gemmGflops: number;
}

export interface TorchResult extends TorchBlas {
  trainTokensPerSec: number;
  genTokensPerSec?: number;
}

/** Below this single-thread GEMM rate the BLAS is the reference one (netlib runs ~1–3 GFLOP/s). */
export const MIN_BLAS_GFLOPS = 15;

/**
 * OpenBLAS reads these when it loads: cleared for the native kernels as for the PyTorch child
 * (this environment pins OPENBLAS_CORETYPE=Haswell; the library then skips its AVX-512 kernels),
 * so both sides run the kernels the library picks for this CPU. Call before loading the kernels.
 */
export function clearOpenblasTuning(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  delete env.OPENBLAS_CORETYPE;
  delete env.OPENBLAS_L2_SIZE;
  return env;
}

/**
 * Debian's python3-torch links libblas.so.3, which the alternatives system points at netlib's
 * reference BLAS unless an optimised one is installed: install OpenBLAS (pthread build) when root,
 * then check in the child which library is actually mapped and how fast its GEMM runs.
 * Returns why PyTorch cannot be measured, or undefined.
 */
export function ensureOptimisedBlas(): string | undefined {
  const probe = () => {
    try {
      execFileSync('/usr/bin/python3', ['-c', 'import torch'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  };
  const libs = [
    '/usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3',
    '/usr/lib/aarch64-linux-gnu/openblas-pthread/libblas.so.3',
  ];
  if (probe() && libs.some((l) => existsSync(l))) return undefined;
  if (process.getuid?.() !== 0)
    return 'python3-torch with OpenBLAS missing and not root: apt-get install -y python3-torch libopenblas0-pthread';
  console.log('installing python3-torch libopenblas0-pthread with apt-get (PyTorch baseline)…');
  try {
    execFileSync(
      'apt-get',
      ['install', '-y', '--no-install-recommends', 'python3-torch', 'libopenblas0-pthread'],
      {
        stdio: ['ignore', 'ignore', 'inherit'],
        env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
      },
    );
  } catch (err) {
    return `apt-get install python3-torch libopenblas0-pthread failed: ${(err as Error).message.split('\n')[0]}`;
  }
  return probe() ? undefined : 'python3-torch still not importable after apt-get install';
}

/**
 * Run a bench/ child script (`script`: its path) with the JSON `job` (which carries `threads`)
 * and return its last stdout line parsed, or why it failed.
 */
export function runTorchChild<T extends TorchBlas>(
  script: string,
  job: { threads: number } & Record<string, unknown>,
): T | string {
  const threads = job.threads;
  // OpenBLAS takes its thread count from the environment when it loads; without these it uses
  // every core whatever torch.set_num_threads says. Tuning variables are cleared so the library
  // picks its kernels for this CPU itself.
  const env = clearOpenblasTuning({
    ...process.env,
    OPENBLAS_NUM_THREADS: String(threads),
    OMP_NUM_THREADS: String(threads),
    MKL_NUM_THREADS: String(threads),
  });
  const name = script.split('/').pop();
  try {
    const out = execFileSync('/usr/bin/python3', [script, JSON.stringify(job)], {
      encoding: 'utf8',
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return JSON.parse(out.trim().split('\n').pop()!) as T;
  } catch (err) {
    return `${name} failed: ${(err as Error).message.split('\n').slice(0, 3).join(' ')}`;
  }
}

/** Why a ratio against this PyTorch run would mislead, or undefined when it is honest. */
export function blasProblem(r: TorchBlas, threads: number): string | undefined {
  if (!/openblas|mkl/i.test(r.blas)) return `PyTorch links ${r.blas} (${r.blasFiles.join(', ')})`;
  if (r.blasThreads !== null && r.blasThreads !== threads)
    return `OpenBLAS runs ${r.blasThreads} threads, ${threads} requested`;
  if (threads === 1 && r.gemmGflops < MIN_BLAS_GFLOPS)
    return `GEMM at ${r.gemmGflops.toFixed(1)} GFLOP/s is a reference-BLAS rate`;
  return undefined;
}

/**
 * The "Baselines:" line of one PyTorch run; `model` names what it runs ("same functional
 * GPT-2"), `load` is the 1-minute load average before it.
 */
export function describeTorchRun(r: TorchBlas, threads: number, load: number, model: string): string {
  return (
    `- PyTorch ${r.torch} (Debian python3-torch, ${model}, eager, no torch.compile), ${threads} thread(s): ` +
    `BLAS ${r.blas} via ${r.blasFiles.join(', ')}; OPENBLAS_NUM_THREADS=OMP_NUM_THREADS=${threads}; ` +
    `512×512 GEMM ${r.gemmGflops.toFixed(1)} GFLOP/s; 1-min load average before the run ${load.toFixed(2)} on ${availableParallelism()} cores`
  );
}
