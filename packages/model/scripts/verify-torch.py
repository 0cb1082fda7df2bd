#!/usr/bin/env python3
"""Check our tfjs GPT-2 against an independent PyTorch implementation.

Builds GPT-2 in plain torch (no transformers) from the model.safetensors + config.json that
@stepcoder/model exported, runs the same left-padded random batch and compares logits and
value-head outputs at every real (unpadded) position: max |ours - torch| / max |torch| <= 1e-4.

Usage (from packages/model):
    python3 scripts/verify-torch.py                # exports tiny + mini on cpu and wasm, then checks
    python3 scripts/verify-torch.py <exported-dir>  # check one directory from export-for-torch.ts
Installs Debian's python3-torch with apt-get when torch is missing (needs root).
"""
import json
import math
import os
import shutil
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
PACKAGE = os.path.dirname(HERE)


def ensure_torch():
    try:
        import torch  # noqa: F401
        return
    except ImportError:
        pass
    system_python = "/usr/bin/python3"
    probe = subprocess.run([system_python, "-c", "import torch"], capture_output=True)
    if probe.returncode != 0:
        print("torch not importable: apt-get install -y python3-torch", flush=True)
        subprocess.run(["apt-get", "install", "-y", "python3-torch"], check=True)
    if os.path.realpath(sys.executable) != os.path.realpath(system_python):
        os.execv(system_python, [system_python] + sys.argv)


def read_safetensors(path):
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
        out[name] = t.reshape(entry["shape"]).to(torch.float64)
    return out


def gpt2_forward(w, cfg, ids, mask):
    """GPT-2 in float64: pre-LN blocks, causal attention + key padding, gelu_new, tied head."""
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


def check(directory):
    import torch
    with open(os.path.join(directory, "config.json")) as f:
        cfg = json.load(f)
    w = read_safetensors(os.path.join(directory, "model.safetensors"))
    inp = read_safetensors(os.path.join(directory, "inputs.safetensors"))
    ids = inp["input_ids"].long()
    mask = inp["attention_mask"]
    with torch.no_grad():
        logits, values = gpt2_forward(w, cfg, ids, mask)
    real = mask.bool()
    rel_logits = ((inp["logits"] - logits).abs()[real].max() / logits[real].abs().max()).item()
    rel_values = ((inp["values"] - values).abs()[real].max() / values[real].abs().max()).item()
    ok = rel_logits <= 1e-4 and rel_values <= 1e-4
    print(
        f"{os.path.basename(directory)}: n_embd={cfg['n_embd']} n_layer={cfg['n_layer']} "
        f"logits rel err {rel_logits:.2e}, values rel err {rel_values:.2e} -> {'OK' if ok else 'FAIL'}"
        f" (torch {torch.__version__})",
        flush=True,
    )
    return ok


def main():
    ensure_torch()
    if len(sys.argv) > 1:
        sys.exit(0 if check(sys.argv[1]) else 1)
    root = tempfile.mkdtemp(prefix="verify-torch-")
    ok = True
    try:
        for size in ("tiny", "mini"):
            for backend in ("cpu", "wasm"):
                out = os.path.join(root, f"{size}-{backend}")
                subprocess.run(
                    ["npx", "tsx", "scripts/export-for-torch.ts", out, size, backend],
                    cwd=PACKAGE,
                    check=True,
                    stderr=subprocess.DEVNULL,
                )
                ok = check(out) and ok
    finally:
        shutil.rmtree(root, ignore_errors=True)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
