"""PyTorch CPU baseline for bench/model.ts: the identical GPT-2 config, training step and greedy
KV-cache generation.

Reads a JSON job from argv[1] ({config, batch, seq, steps, threads, prompt_ids, new_tokens});
prints one JSON line. The thread count must also be in the environment before this process
starts (OPENBLAS_NUM_THREADS / OMP_NUM_THREADS: OpenBLAS reads them when it loads, and Debian's
torch build does not forward torch.set_num_threads to OpenBLAS); bench/model.ts sets them.

The JSON says which BLAS library is actually mapped into this process (the file behind
libblas.so.3 after the alternatives symlinks), how many threads it runs, and the GEMM rate it
reaches, so that the caller can refuse a ratio against Debian's reference (netlib) BLAS.
"""
import ctypes
import json
import math
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts"))

import torch  # noqa: E402
from torch_gpt2 import gpt2_forward, init_weights  # noqa: E402

job = json.loads(sys.argv[1])
torch.set_num_threads(job["threads"])


def loaded_blas():
    """(realpath, kind, threads) of the BLAS shared object mapped into this process."""
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
                config = ctypes.c_char_p
                lib.openblas_get_config.restype = config
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


cfg = job["config"]
w = init_weights(cfg, seed=1)
params = list(w.values())
opt = torch.optim.Adam(params, lr=1e-4)
B, T = job["batch"], job["seq"]
ids = torch.tensor([[(b * 31 + t * 7) % 256 for t in range(T)] for b in range(B)])
mask = torch.ones(B, T)


def step():
    opt.zero_grad()
    logits, _ = gpt2_forward(w, cfg, ids, mask)
    loss = torch.nn.functional.cross_entropy(logits[:, :-1].reshape(-1, logits.shape[-1]), ids[:, 1:].reshape(-1))
    loss.backward()
    opt.step()


def generate(prompt, new_tokens):
    """Greedy decoding of one prompt with a per-layer KV cache (what Policy.generate does)."""
    D, H = cfg["n_embd"], cfg["n_head"]
    hd = D // H
    eps = cfg.get("layer_norm_epsilon", 1e-5)
    p = lambda n: w["transformer." + n]
    ln = lambda v, n: torch.nn.functional.layer_norm(v, (D,), p(n + ".weight"), p(n + ".bias"), eps)
    cache = [None] * cfg["n_layer"]
    tokens = list(prompt)
    x_ids = torch.tensor([tokens])
    start = 0
    out = []
    with torch.no_grad():
        for _ in range(new_tokens):
            t = x_ids.shape[1]
            x = p("wte.weight")[x_ids] + p("wpe.weight")[torch.arange(start, start + t)]
            for l in range(cfg["n_layer"]):
                h = f"h.{l}."
                a = ln(x, h + "ln_1")
                qkv = a @ p(h + "attn.c_attn.weight") + p(h + "attn.c_attn.bias")
                q, k, v = (m.view(1, t, H, hd).transpose(1, 2) for m in qkv.split(D, dim=-1))
                if cache[l] is not None:
                    k = torch.cat([cache[l][0], k], 2)
                    v = torch.cat([cache[l][1], v], 2)
                cache[l] = (k, v)
                s = (q @ k.transpose(-1, -2)) / math.sqrt(hd)
                if t > 1:
                    s = s.masked_fill(~torch.tril(torch.ones(t, t, dtype=torch.bool)), float("-inf"))
                ctx = (s.softmax(-1) @ v).transpose(1, 2).reshape(1, t, D)
                x = x + ctx @ p(h + "attn.c_proj.weight") + p(h + "attn.c_proj.bias")
                u = ln(x, h + "ln_2") @ p(h + "mlp.c_fc.weight") + p(h + "mlp.c_fc.bias")
                u = 0.5 * u * (1 + torch.tanh(math.sqrt(2 / math.pi) * (u + 0.044715 * u**3)))
                x = x + u @ p(h + "mlp.c_proj.weight") + p(h + "mlp.c_proj.bias")
            logits = ln(x[:, -1], "ln_f") @ p("wte.weight").T
            logits[:, job.get("banned", [])] = float("-inf")
            nxt = int(logits.argmax(-1))
            out.append(nxt)
            start += t
            x_ids = torch.tensor([[nxt]])
    return out


paths, kind, blas_threads = loaded_blas()
result = {"torch": torch.__version__, "threads": torch.get_num_threads(), "blas": kind,
          "blasFiles": paths, "blasThreads": blas_threads, "gemmGflops": gemm_gflops()}
step()
# The fastest step, as bench/model.ts takes for wasm: load from other jobs only slows steps down.
fastest = math.inf
for _ in range(job["steps"]):
    start = time.perf_counter()
    step()
    fastest = min(fastest, time.perf_counter() - start)
result["trainTokensPerSec"] = B * T / fastest
if job.get("new_tokens"):
    generate(job["prompt_ids"], 4)
    best = math.inf
    for _ in range(2):
        start = time.perf_counter()
        n = len(generate(job["prompt_ids"], job["new_tokens"]))
        best = min(best, time.perf_counter() - start)
    result["genTokensPerSec"] = n / best
print(json.dumps(result))
