"""PyTorch CPU baseline for bench/model.ts: the identical GPT-2 config, training step and greedy
KV-cache generation.

Reads a JSON job from argv[1] ({config, batch, seq, steps, threads, prompt_ids, new_tokens});
prints one JSON line: the BLAS actually mapped into this process, its thread count and GEMM rate
(torch_blas.py, which also says why the thread count must be in the environment), and the rates.
"""
import json
import math

import torch
from torch_blas import bench_ids, blas_report, fastest_seconds, generation_rate, read_job
from torch_gpt2 import gpt2_forward, init_weights  # noqa: E402  (scripts/, on the path via torch_blas)

job = read_job()
cfg = job["config"]
w = init_weights(cfg, seed=1)
params = list(w.values())
opt = torch.optim.Adam(params, lr=1e-4)
B, T = job["batch"], job["seq"]
ids = bench_ids(B, T)
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


result = blas_report()
result["trainTokensPerSec"] = B * T / fastest_seconds(step, job["steps"])
if job.get("new_tokens"):
    result["genTokensPerSec"] = generation_rate(lambda n: generate(job["prompt_ids"], n), job["new_tokens"])
print(json.dumps(result))
