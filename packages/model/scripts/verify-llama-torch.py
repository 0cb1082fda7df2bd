#!/usr/bin/env python3
"""Check our tfjs Llama-family decoder against an independent PyTorch implementation.

Builds small random Llama- and Qwen2-shaped models in plain torch (scripts/torch_llama.py, written
from transformers' modeling_llama.py / modeling_qwen2.py; transformers is not needed), writes each
as a Hugging Face directory (config.json, model.safetensors written by hand with struct + json,
tokenizer.json, generation_config.json), then runs our side (scripts/llama-for-torch.ts: loadHfModel,
apply, greedy KV-cache generation, saveHfModel) on cpu, wasm and wasm + native kernels, and checks:

  - logits and values at every real position of a left-padded random batch:
    max |ours - torch| / max |torch| <= 1e-5 (torch in float64, the weights as stored);
  - greedy generation with the KV cache: the same tokens as torch's own KV-cache greedy decoding,
    log-probs within 1e-5 relative, and the same tokens as our generation without the cache;
  - the directory our side saves back holds the same tensors, bit for bit, and the same config.

Usage (from packages/model):
    python3 scripts/verify-llama-torch.py        # or: pnpm --filter @stepcoder/model verify:llama
Installs Debian's python3-torch with apt-get when torch is missing (needs root).
"""
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

HERE = os.path.dirname(os.path.abspath(__file__))
PACKAGE = os.path.dirname(HERE)
TOL = 1e-5

# Small, but every variant: GQA 4:2 untied (llama), llama with attention_bias (o_proj bias too),
# explicit head_dim and MHA, Qwen2 (q/k/v biases) tied with GQA 4:1, a padded vocabulary and a
# list of EOS ids, and a bf16 checkpoint.
CONFIGS = {
    "llama-gqa": dict(model_type="llama", vocab_size=258, hidden_size=64, intermediate_size=160,
                      num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                      max_position_embeddings=128, rms_norm_eps=1e-6, rope_theta=10000.0,
                      tie_word_embeddings=False, attention_bias=False, dtype="F32", eos=[256]),
    "llama-bias-mha": dict(model_type="llama", vocab_size=258, hidden_size=48, intermediate_size=96,
                           num_hidden_layers=2, num_attention_heads=3, num_key_value_heads=3,
                           head_dim=32, max_position_embeddings=128, rms_norm_eps=1e-5,
                           rope_theta=500000.0, tie_word_embeddings=False, attention_bias=True,
                           dtype="F32", eos=[256]),
    "qwen2-tied": dict(model_type="qwen2", vocab_size=272, hidden_size=64, intermediate_size=128,
                       num_hidden_layers=3, num_attention_heads=4, num_key_value_heads=1,
                       max_position_embeddings=128, rms_norm_eps=1e-6, rope_theta=1000000.0,
                       tie_word_embeddings=True, dtype="F32", eos=[256, 255]),
    "qwen2-bf16": dict(model_type="qwen2", vocab_size=258, hidden_size=64, intermediate_size=128,
                       num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                       max_position_embeddings=128, rms_norm_eps=1e-6, rope_theta=1000000.0,
                       tie_word_embeddings=False, dtype="BF16", eos=[256]),
    # rope_scaling as DeepSeek-Coder (linear) and Llama 3.1+ (llama3) ship it; head size 16 and an
    # original context of 512 put the llama3 frequencies in all three bands (kept, blended, scaled).
    "llama-rope-linear": dict(model_type="llama", vocab_size=258, hidden_size=64, intermediate_size=128,
                              num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                              max_position_embeddings=128, rms_norm_eps=1e-6, rope_theta=10000.0,
                              rope_scaling={"type": "linear", "factor": 4.0},
                              tie_word_embeddings=False, dtype="F32", eos=[256]),
    "llama3-rope": dict(model_type="llama", vocab_size=258, hidden_size=64, intermediate_size=128,
                        num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                        max_position_embeddings=128, rms_norm_eps=1e-5, rope_theta=10000.0,
                        rope_scaling={"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                                      "high_freq_factor": 4.0, "original_max_position_embeddings": 512},
                        tie_word_embeddings=False, dtype="F32", eos=[256]),
}
PROMPTS = ["def fib(n):", "x", "import os\nprint("]
MAX_NEW = 12


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


def bytes_to_unicode():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {b: chr(c) for b, c in zip(bs, cs)}


def tokenizer_json():
    """A byte-level BPE without merges: ids 0-255 are bytes, 256 <|endoftext|>, 257 <|pad|>."""
    table = bytes_to_unicode()
    added = [dict(id=256 + i, content=c, single_word=False, lstrip=False, rstrip=False,
                  normalized=False, special=True) for i, c in enumerate(["<|endoftext|>", "<|pad|>"])]
    return {
        "version": "1.0", "truncation": None, "padding": None, "added_tokens": added,
        "normalizer": None,
        "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": False},
        "post_processor": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": False, "use_regex": True},
        "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": "",
                  "end_of_word_suffix": "", "fuse_unk": False, "byte_fallback": False,
                  "ignore_merges": False, "vocab": {table[b]: b for b in range(256)}, "merges": []},
    }


def write_safetensors(path, tensors, dtype="F32"):
    """safetensors by hand: u64 header length, JSON header, raw little-endian data."""
    import torch
    header, blobs, offset = {"__metadata__": {"format": "pt"}}, [], 0
    for name, t in tensors.items():
        t = t.detach().contiguous()
        if dtype == "BF16":
            raw = t.to(torch.bfloat16).view(torch.int16).numpy().astype("<i2").tobytes()
        else:
            raw = t.to(torch.float32).numpy().astype("<f4").tobytes()
        header[name] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def read_safetensors(path):
    import torch
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    dtypes = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16}
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        a, b = e["data_offsets"]
        buf = bytearray(data[8 + n + a:8 + n + b])
        out[name] = (torch.frombuffer(buf, dtype=dtypes[e["dtype"]]) if buf else torch.zeros(0)).reshape(e["shape"])
    return out


def random_weights(cfg, seed):
    """Every parameter random (norm weights around 1, biases nonzero), so that all of them matter."""
    import torch
    from torch_llama import dims, has_o_bias, has_qkv_bias
    g = torch.Generator().manual_seed(seed)
    H, KV, hd = dims(cfg)
    D, I, V = cfg["hidden_size"], cfg["intermediate_size"], cfg["vocab_size"]
    r = lambda *s, std=0.1: torch.randn(*s, generator=g) * std
    w = {"model.embed_tokens.weight": r(V, D, std=0.5)}
    for l in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{l}."
        w[p + "self_attn.q_proj.weight"] = r(H * hd, D, std=D ** -0.5)
        w[p + "self_attn.k_proj.weight"] = r(KV * hd, D, std=D ** -0.5)
        w[p + "self_attn.v_proj.weight"] = r(KV * hd, D, std=D ** -0.5)
        if has_qkv_bias(cfg):
            w[p + "self_attn.q_proj.bias"] = r(H * hd)
            w[p + "self_attn.k_proj.bias"] = r(KV * hd)
            w[p + "self_attn.v_proj.bias"] = r(KV * hd)
        w[p + "self_attn.o_proj.weight"] = r(D, H * hd, std=(H * hd) ** -0.5)
        if has_o_bias(cfg):
            w[p + "self_attn.o_proj.bias"] = r(D)
        w[p + "mlp.gate_proj.weight"] = r(I, D, std=D ** -0.5)
        w[p + "mlp.up_proj.weight"] = r(I, D, std=D ** -0.5)
        w[p + "mlp.down_proj.weight"] = r(D, I, std=I ** -0.5)
        w[p + "input_layernorm.weight"] = 1 + r(D)
        w[p + "post_attention_layernorm.weight"] = 1 + r(D)
    w["model.norm.weight"] = 1 + r(D)
    if not cfg.get("tie_word_embeddings"):
        w["lm_head.weight"] = r(V, D, std=D ** -0.5)
    w["v_head.summary.weight"] = r(1, D)
    w["v_head.summary.bias"] = r(1)
    return w


def write_model(directory, name, spec, seed):
    import torch
    os.makedirs(directory, exist_ok=True)
    spec = dict(spec)
    dtype, eos = spec.pop("dtype"), spec.pop("eos")
    cfg = dict({"rope_scaling": None}, **spec, hidden_act="silu",
               architectures=["Qwen2ForCausalLM" if spec["model_type"] == "qwen2" else "LlamaForCausalLM"],
               torch_dtype="bfloat16" if dtype == "BF16" else "float32")
    w = random_weights(cfg, seed)
    with open(os.path.join(directory, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
    with open(os.path.join(directory, "generation_config.json"), "w") as f:
        json.dump({"eos_token_id": eos if len(eos) > 1 else eos[0], "bos_token_id": 256}, f)
    with open(os.path.join(directory, "tokenizer.json"), "w") as f:
        json.dump(tokenizer_json(), f)
    # Names the pad token, so that ours bans 257 in generation as the torch reference below does
    # (without it ours pads with EOS and could sample 257: seen with the rope-linear seed).
    with open(os.path.join(directory, "tokenizer_config.json"), "w") as f:
        json.dump({"eos_token": "<|endoftext|>", "pad_token": "<|pad|>"}, f)
    write_safetensors(os.path.join(directory, "model.safetensors"), w, dtype)
    # What a reader of the file gets (bf16 rounding included), as float64 for the reference forward.
    stored = {k: v.to(torch.float32) for k, v in read_safetensors(os.path.join(directory, "model.safetensors")).items()}
    g = torch.Generator().manual_seed(seed + 1)
    B, T, pads = 3, 20, [0, 4, 9]
    ids = torch.randint(0, 256, (B, T), generator=g)
    mask = torch.ones(B, T)
    for b, p in enumerate(pads):
        ids[b, :p] = 257
        mask[b, :p] = 0
    write_safetensors(os.path.join(directory, "inputs.safetensors"),
                      {"input_ids": ids.float(), "attention_mask": mask})
    with open(os.path.join(directory, "prompts.json"), "w") as f:
        json.dump({"prompts": PROMPTS, "maxNewTokens": MAX_NEW}, f)
    return cfg, stored, ids, mask, eos


def rel(a, b):
    return ((a - b).abs().max() / b.abs().max()).item()


def same_rope_scaling(saved, original):
    """rope_scaling read back equals the original (ours writes `type` beside `rope_type`)."""
    a, b = saved.get("rope_scaling"), original.get("rope_scaling")
    if not a or not b:
        return not a and not b
    kind = lambda r: r.get("rope_type", r.get("type"))
    rest = lambda r: {k: v for k, v in r.items() if k not in ("type", "rope_type")}
    return kind(a) == kind(b) and rest(a) == rest(b)


def check(directory, cfg, stored, ids, mask, eos, backend):
    import torch
    from torch_llama import greedy_generate, llama_forward
    subprocess.run(["npx", "tsx", "scripts/llama-for-torch.ts", directory, backend], cwd=PACKAGE, check=True,
                   stderr=subprocess.DEVNULL)
    ours = read_safetensors(os.path.join(directory, "ours.safetensors"))
    with open(os.path.join(directory, "ours.json")) as f:
        gen = json.load(f)
    w64 = {k: v.double() for k, v in stored.items()}
    positions = (mask.cumsum(-1) - 1).clamp(min=0).long()
    with torch.no_grad():
        logits, values, _ = llama_forward(w64, cfg, ids, mask, positions)
        w32 = {k: v.float() for k, v in stored.items()}
        logits32, _, _ = llama_forward(w32, cfg, ids, mask, positions)
    real = mask.bool()
    r_logits = rel(ours["logits"].double()[real], logits[real])
    r_values = rel(ours["values"].double()[real], values[real])
    r_torch32 = rel(logits32.double()[real], logits[real])
    # Greedy KV-cache decoding in torch, banning what ours bans with ignoreEos (EOS ids and pad),
    # and only ids the tokenizer has (a padded vocabulary's tail is never sampled).
    banned = set(eos) | {257}
    prompt_ids = [list(p.encode("utf-8")) for p in PROMPTS]
    with torch.no_grad():
        ref_ids, ref_lps = greedy_generate(w64, cfg, prompt_ids, 257, MAX_NEW, banned=banned, allowed=258)
    same_prompts = gen["promptIds"] == prompt_ids
    same_tokens = gen["tokenIds"] == ref_ids
    same_uncached = gen["uncachedTokenIds"] == gen["tokenIds"]
    lp_ours = torch.tensor(gen["logprobs"], dtype=torch.float64)
    lp_ref = torch.tensor(ref_lps, dtype=torch.float64)
    r_lp = rel(lp_ours, lp_ref) if same_tokens else float("inf")
    # The directory ours saved back: same tensors (bit for bit, as float32) and config fields.
    resaved = read_safetensors(os.path.join(directory, "resaved", "model.safetensors"))
    same_weights = set(resaved) == set(stored) and all(torch.equal(resaved[k], stored[k]) for k in stored)
    with open(os.path.join(directory, "resaved", "config.json")) as f:
        cfg2 = json.load(f)
    keys = ["model_type", "vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers",
            "num_attention_heads", "num_key_value_heads", "max_position_embeddings", "rms_norm_eps",
            "rope_theta", "tie_word_embeddings"]
    same_config = all(cfg2.get(k) == cfg.get(k) for k in keys) and same_rope_scaling(cfg2, cfg)
    # A scaled rotary embedding must matter at these positions, or its check would prove nothing.
    r_unscaled = float("inf")
    if cfg.get("rope_scaling"):
        with torch.no_grad():
            plain, _, _ = llama_forward(w64, dict(cfg, rope_scaling=None), ids, mask, positions)
        r_unscaled = rel(plain[real], logits[real])
    ok = (r_logits <= TOL and r_values <= TOL and r_lp <= TOL and same_prompts and same_tokens
          and same_uncached and same_weights and same_config and r_unscaled > 100 * TOL)
    print(
        f"{os.path.basename(directory):15s} {backend:11s} logits {r_logits:.1e}  values {r_values:.1e}  "
        f"greedy KV-cache tokens {'same' if same_tokens else 'DIFFER'} (no-cache {'same' if same_uncached else 'DIFFER'}), "
        f"log-probs {r_lp:.1e}  resaved {'identical' if same_weights and same_config else 'DIFFERENT'}  "
        f"[torch fp32 vs fp64: {r_torch32:.1e}"
        f"{f'; without rope_scaling: {r_unscaled:.1e}' if cfg.get('rope_scaling') else ''}] -> {'OK' if ok else 'FAIL'}",
        flush=True,
    )
    return ok, max(r_logits, r_values, r_lp)


def main():
    ensure_torch()
    import torch
    print(f"torch {torch.__version__}; tolerance {TOL:.0e} relative (max |ours - torch| / max |torch|, torch float64)",
          flush=True)
    root = tempfile.mkdtemp(prefix="verify-llama-")
    ok, worst = True, 0.0
    try:
        for i, (name, spec) in enumerate(CONFIGS.items()):
            for backend in ("cpu", "wasm", "wasm-native"):
                directory = os.path.join(root, f"{name}-{backend}")
                cfg, stored, ids, mask, eos = write_model(directory, name, spec, seed=100 + i)
                good, err = check(directory, cfg, stored, ids, mask, eos, backend)
                ok = ok and good
                worst = max(worst, err)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print(f"max relative error {worst:.2e} (tolerance {TOL:.0e}): {'OK' if ok else 'FAIL'}", flush=True)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
