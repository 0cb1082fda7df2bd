#!/usr/bin/env python3
"""Check our tfjs GPT-2 against an independent PyTorch implementation.

Builds GPT-2 in plain torch (no transformers) from the model.safetensors + config.json that
@stepcoder/model exported, runs the same left-padded random batch and compares logits and
value-head outputs at every real (unpadded) position: max |ours - torch| / max |torch| <= 1e-4.

Usage (from packages/model):
    python3 scripts/verify-torch.py                # exports tiny + mini on cpu, wasm and wasm + native kernels, then checks
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

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

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


def check(directory):
    import torch
    from torch_gpt2 import gpt2_forward, read_safetensors

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
            for backend in ("cpu", "wasm", "wasm-native"):
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
