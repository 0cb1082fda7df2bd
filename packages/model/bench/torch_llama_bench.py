"""PyTorch CPU baseline for bench/llama.ts: the identical Llama-family config (LLAMA_MINI), the same
parameter shapes and initialisation as ours, the same training step and greedy KV-cache generation,
on scripts/torch_llama.py's functional Llama (HF's modeling_llama.py, eager attention).

Reads a JSON job from argv[1] ({config (HF config.json keys), shapes ({HF name: shape}), batch,
seq, steps, threads, prompt_ids, new_tokens, banned, pad_id}); prints one JSON line: the BLAS
actually mapped into this process, its thread count and GEMM rate (torch_blas.py), and the rates.

What it computes:
  training: llama_forward over ids [B, T] (logits [B, T, V] and the value head's values [B, T],
    as our policy.apply computes both), next-token cross-entropy on the logits (the values take no
    part in the loss), backward, torch.optim.Adam (lr 1e-4) over every parameter;
  generation: greedy_generate at batch 1 with the per-layer KV cache (prefill of the prompt, then
    one token per step, argmax of a log-softmax, as Policy.generate; it also computes the values,
    and the prefill's logits at every prompt position, where ours takes the last one only: a
    [1, 384] and a [22, 384]·[384, 258] product, negligible).
"""
import json

import torch
from torch_blas import bench_ids, blas_report, fastest_seconds, generation_rate, read_job
from torch_llama import greedy_generate, llama_forward  # noqa: E402  (scripts/, via torch_blas)

job = read_job()
cfg = job["config"]


def init_weights(shapes, seed):
    """Our llamaInitialWeight: normal(0, 0.02) weights and embeddings, zero biases, unit norms."""
    g = torch.Generator().manual_seed(seed)
    w = {}
    for name, shape in shapes.items():
        if name.endswith("norm.weight"):
            t = torch.ones(shape)
        elif name.endswith(".bias"):
            t = torch.zeros(shape)
        else:
            t = torch.randn(*shape, generator=g) * 0.02
        w[name] = t.requires_grad_()
    return w


w = init_weights(job["shapes"], seed=1)
opt = torch.optim.Adam(list(w.values()), lr=1e-4)
B, T = job["batch"], job["seq"]
ids = bench_ids(B, T)
mask = torch.ones(B, T)
positions = torch.arange(T)[None].expand(B, T)


def step():
    opt.zero_grad()
    logits, _values, _ = llama_forward(w, cfg, ids, mask, positions)
    V = logits.shape[-1]
    loss = torch.nn.functional.cross_entropy(logits[:, :-1].reshape(-1, V), ids[:, 1:].reshape(-1))
    loss.backward()
    opt.step()


def generate(n):
    with torch.no_grad():
        out, _ = greedy_generate(w, cfg, [job["prompt_ids"]], job["pad_id"], n, banned=job["banned"])
    return out[0]


result = blas_report()
result["trainTokensPerSec"] = B * T / fastest_seconds(step, job["steps"])
if job.get("new_tokens"):
    result["genTokensPerSec"] = generation_rate(generate, job["new_tokens"])
print(json.dumps(result))
