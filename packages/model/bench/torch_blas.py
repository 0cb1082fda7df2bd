"""What the PyTorch baselines (torch_bench.py, torch_llama_bench.py) share: the BLAS actually
mapped into this process and its GEMM rate, and the timing of the training step and of greedy
generation as bench/measure.ts times ours.

The thread count must also be in the environment before the child starts (OPENBLAS_NUM_THREADS /
OMP_NUM_THREADS: OpenBLAS reads them when it loads, and Debian's torch build does not forward
torch.set_num_threads to OpenBLAS); bench/torch-baseline.ts sets them. blas_report() says which
library is mapped (the file behind libblas.so.3 after the alternatives symlinks), how many threads
it runs and the GEMM rate it reaches, so that the caller can refuse a ratio against Debian's
reference (netlib) BLAS.
"""
import ctypes
import json
import math
import os
import sys
import time

import torch

# scripts/: torch_gpt2.py, torch_llama.py
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts"))


def read_job():
    """The JSON job of argv[1], with torch set to its thread count."""
    job = json.loads(sys.argv[1])
    torch.set_num_threads(job["threads"])
    return job


def bench_ids(B, T):
    """The training batch of bench/measure.ts's benchIds: (b·31 + t·7) mod 256."""
    return torch.tensor([[(b * 31 + t * 7) % 256 for t in range(T)] for b in range(B)])


def loaded_blas():
    """(realpaths, kind, threads) of the BLAS shared objects mapped into this process."""
    torch.ones(64, 64) @ torch.ones(64, 64)  # make sure the library is loaded
    paths = set()
    with open("/proc/self/maps") as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 6 and ("blas" in parts[5].lower() or "mkl" in parts[5].lower()):
                paths.add(os.path.realpath(parts[5]))
    kind, threads = "unknown", None
    for p in sorted(paths):
        name = os.path.basename(p).lower()
        if "openblas" in p.lower():
            kind = "OpenBLAS"
            try:
                lib = ctypes.CDLL(p)
                threads = lib.openblas_get_num_threads()
                lib.openblas_get_config.restype = ctypes.c_char_p
                kind = "OpenBLAS " + lib.openblas_get_config().decode()
            except (OSError, AttributeError):
                pass
        elif "mkl" in name:
            kind = "MKL"
        elif kind == "unknown" and name.startswith("libblas"):
            kind = "reference BLAS (netlib)"
    return sorted(paths), kind, threads


def gemm_gflops(n=512, reps=20):
    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b
    start = time.perf_counter()
    for _ in range(reps):
        a @ b
    return 2 * n**3 * reps / (time.perf_counter() - start) / 1e9


def blas_report():
    """The TorchBlas fields of bench/torch-baseline.ts."""
    paths, kind, blas_threads = loaded_blas()
    return {"torch": torch.__version__, "threads": torch.get_num_threads(), "blas": kind,
            "blasFiles": paths, "blasThreads": blas_threads, "gemmGflops": gemm_gflops()}


def fastest_seconds(step, steps):
    """One warm-up call, then the fastest of `steps` calls: load from other jobs only slows a
    step down (bench/measure.ts takes the fastest for ours too)."""
    step()
    fastest = math.inf
    for _ in range(steps):
        start = time.perf_counter()
        step()
        fastest = min(fastest, time.perf_counter() - start)
    return fastest


def generation_rate(generate, new_tokens):
    """Tokens/s of `generate(n)` (returns the new ids) at `new_tokens`: a 4-token warm-up, then
    the best of two, as bench/measure.ts does."""
    generate(4)
    best = math.inf
    for _ in range(2):
        start = time.perf_counter()
        n = len(generate(new_tokens))
        best = min(best, time.perf_counter() - start)
    return n / best
