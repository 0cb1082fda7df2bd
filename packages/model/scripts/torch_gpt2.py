"""GPT-2 in plain PyTorch (no transformers), shared by verify-torch.py and bench/torch_bench.py.

Parameters are a dict keyed by Hugging Face GPT-2 names (Conv1D weights [in, out]), as
@stepcoder/model writes them to model.safetensors.
"""
import json
import math
import struct


def read_safetensors(path, dtype=None):
    import torch
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + n])
    base = 8 + n
    dtypes = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16}
    out = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        start, end = entry["data_offsets"]
        buf = bytearray(data[base + start : base + end])
        t = torch.frombuffer(buf, dtype=dtypes[entry["dtype"]]) if buf else torch.zeros(0)
        out[name] = t.reshape(entry["shape"]).to(dtype or torch.float64)
    return out


def gpt2_forward(w, cfg, ids, mask):
    """GPT-2 (dtype of `w`): pre-LN blocks, causal attention + key padding, gelu_new, tied head."""
    import torch
    B, T = ids.shape
    D, H = cfg["n_embd"], cfg["n_head"]
    eps = cfg.get("layer_norm_epsilon", 1e-5)
    p = lambda n: w["transformer." + n]
    pos = (mask.cumsum(-1) - 1).clamp(min=0).long()
    x = p("wte.weight")[ids] + p("wpe.weight")[pos]
    causal = torch.tril(torch.ones(T, T, dtype=torch.bool))
    allowed = causal[None, None] & mask.bool()[:, None, None, :]
    ln = lambda v, n: torch.nn.functional.layer_norm(v, (D,), p(n + ".weight"), p(n + ".bias"), eps)
    for l in range(cfg["n_layer"]):
        h = f"h.{l}."
        a = ln(x, h + "ln_1")
        qkv = a @ p(h + "attn.c_attn.weight") + p(h + "attn.c_attn.bias")
        q, k, v = qkv.split(D, dim=-1)
        heads = lambda m: m.view(B, T, H, D // H).transpose(1, 2)
        q, k, v = heads(q), heads(k), heads(v)
        s = (q @ k.transpose(-1, -2)) / math.sqrt(D // H)
        s = s.masked_fill(~allowed, torch.finfo(s.dtype).min)
        ctx = (s.softmax(-1) @ v).transpose(1, 2).reshape(B, T, D)
        x = x + ctx @ p(h + "attn.c_proj.weight") + p(h + "attn.c_proj.bias")
        m = ln(x, h + "ln_2")
        u = m @ p(h + "mlp.c_fc.weight") + p(h + "mlp.c_fc.bias")
        u = 0.5 * u * (1 + torch.tanh(math.sqrt(2 / math.pi) * (u + 0.044715 * u**3)))
        x = x + u @ p(h + "mlp.c_proj.weight") + p(h + "mlp.c_proj.bias")
    x = ln(x, "ln_f")
    logits = x @ p("wte.weight").T
    values = (x @ w["v_head.summary.weight"].T + w["v_head.summary.bias"]).squeeze(-1)
    return logits, values


def init_weights(cfg, seed=0):
    """GPT-2 initialisation in float32 with requires_grad, for benchmarks."""
    import torch
    g = torch.Generator().manual_seed(seed)
    D, L = cfg["n_embd"], cfg["n_layer"]
    shapes = {"transformer.wte.weight": [cfg["vocab_size"], D], "transformer.wpe.weight": [cfg["n_positions"], D]}
    for l in range(L):
        h = f"transformer.h.{l}."
        shapes.update({
            h + "ln_1.weight": [D], h + "ln_1.bias": [D],
            h + "attn.c_attn.weight": [D, 3 * D], h + "attn.c_attn.bias": [3 * D],
            h + "attn.c_proj.weight": [D, D], h + "attn.c_proj.bias": [D],
            h + "ln_2.weight": [D], h + "ln_2.bias": [D],
            h + "mlp.c_fc.weight": [D, 4 * D], h + "mlp.c_fc.bias": [4 * D],
            h + "mlp.c_proj.weight": [4 * D, D], h + "mlp.c_proj.bias": [D],
        })
    shapes.update({"transformer.ln_f.weight": [D], "transformer.ln_f.bias": [D],
                   "v_head.summary.weight": [1, D], "v_head.summary.bias": [1]})
    w = {}
    for name, shape in shapes.items():
        if name.endswith("ln_1.weight") or name.endswith("ln_2.weight") or name.endswith("ln_f.weight"):
            t = torch.ones(shape)
        elif name.endswith(".bias"):
            t = torch.zeros(shape)
        else:
            t = torch.randn(shape, generator=g) * 0.02
        w[name] = t.requires_grad_(True)
    return w

