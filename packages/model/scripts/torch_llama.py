"""Llama / Qwen2 in plain PyTorch (no transformers), for verify-llama-torch.py.

Mirrors transformers' modeling_llama.py / modeling_qwen2.py (eager attention):
  LlamaRMSNorm:        weight * (x * rsqrt(mean(x^2) + eps))
  LlamaRotaryEmbedding: inv_freq = 1 / theta^(arange(0, d, 2) / d); emb = cat(freqs, freqs)
  rope_scaling:         modeling_rope_utils' linear (inv_freq / factor) and llama3 parameters
  apply_rotary_pos_emb: q * cos + rotate_half(q) * sin, rotate_half(x) = cat(-x2, x1)
  repeat_kv:            KV head j // n_rep serves query head j
  LlamaMLP:             down_proj(silu(gate_proj(x)) * up_proj(x))
  o_proj bias:          llama with attention_bias only (qwen2: q/k/v biases, none on o_proj)
Parameters are a dict keyed by Hugging Face names (nn.Linear weights [out, in]).
"""


def rotate_half(x):
    import torch
    x1 = x[..., : x.shape[-1] // 2]
    x2 = x[..., x.shape[-1] // 2 :]
    return torch.cat((-x2, x1), dim=-1)


def repeat_kv(x, n_rep):
    b, kvh, s, hd = x.shape
    if n_rep == 1:
        return x
    return x[:, :, None, :, :].expand(b, kvh, n_rep, s, hd).reshape(b, kvh * n_rep, s, hd)


def dims(cfg):
    H = cfg["num_attention_heads"]
    KV = cfg.get("num_key_value_heads") or H
    hd = cfg.get("head_dim") or cfg["hidden_size"] // H
    return H, KV, hd


def rope(cfg, positions, dtype):
    """cos, sin [B, T, hd] for integer positions [B, T] (float32 as HF computes them, then cast)."""
    import torch
    _, _, hd = dims(cfg)
    theta = cfg.get("rope_theta", 10000.0)
    inv_freq = scaled_inv_freq(cfg, 1.0 / (theta ** (torch.arange(0, hd, 2, dtype=torch.int64).float() / hd)))
    freqs = positions.float()[:, :, None] * inv_freq[None, None, :]
    emb = torch.cat((freqs, freqs), dim=-1)
    return emb.cos().to(dtype), emb.sin().to(dtype)


def scaled_inv_freq(cfg, inv_freq):
    """transformers' _compute_linear_scaling_rope_parameters / _compute_llama3_parameters."""
    import math
    import torch
    rs = cfg.get("rope_scaling")
    kind = (rs or {}).get("rope_type", (rs or {}).get("type", "default"))
    if kind == "default":
        return inv_freq
    if kind == "linear":
        return inv_freq / rs["factor"]
    if kind == "llama3":
        factor, low, high = rs["factor"], rs["low_freq_factor"], rs["high_freq_factor"]
        old_context_len = rs["original_max_position_embeddings"]
        low_freq_wavelen = old_context_len / low
        high_freq_wavelen = old_context_len / high
        wavelen = 2 * math.pi / inv_freq
        inv_freq_llama = torch.where(wavelen > low_freq_wavelen, inv_freq / factor, inv_freq)
        smooth_factor = (old_context_len / wavelen - low) / (high - low)
        smoothed = (1 - smooth_factor) * inv_freq_llama / factor + smooth_factor * inv_freq_llama
        is_medium = ~(wavelen < high_freq_wavelen) * ~(wavelen > low_freq_wavelen)
        return torch.where(is_medium, smoothed, inv_freq_llama)
    raise ValueError(f"rope_scaling type {kind!r}")


def rms_norm(x, w, eps):
    import torch
    return w * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps))


def has_o_bias(cfg):
    return cfg["model_type"] == "llama" and bool(cfg.get("attention_bias"))


def has_qkv_bias(cfg):
    return cfg["model_type"] == "qwen2" or bool(cfg.get("attention_bias"))


def linear(x, w, name, bias):
    y = x @ w[name + ".weight"].T
    return y + w[name + ".bias"] if bias else y


def llama_forward(w, cfg, ids, mask, positions, past=None):
    """Logits [B, T, V], values [B, T] and the new KV cache for ids [B, T] after `past`.

    mask [B, S] (S = past + T) is 1 for real keys; positions [B, T] are the tokens' positions.
    The cache is a list of (k, v) per layer, [B, KV, S, hd], keys after rotation (as HF caches).
    """
    import torch
    B, T = ids.shape
    H, KV, hd = dims(cfg)
    n_rep = H // KV
    eps = cfg.get("rms_norm_eps", 1e-6)
    dtype = w["model.embed_tokens.weight"].dtype
    x = w["model.embed_tokens.weight"][ids]
    cos, sin = rope(cfg, positions, dtype)
    cos, sin = cos[:, None], sin[:, None]  # unsqueeze_dim=1: [B, 1, T, hd]
    S = mask.shape[1]
    P = S - T
    causal = torch.ones(T, S, dtype=torch.bool).tril(diagonal=P)
    allowed = causal[None, None] & mask.bool()[:, None, None, :]
    qkv_bias, o_bias = has_qkv_bias(cfg), has_o_bias(cfg)
    present = []
    for l in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{l}."
        a = rms_norm(x, w[p + "input_layernorm.weight"], eps)
        q = linear(a, w, p + "self_attn.q_proj", qkv_bias).view(B, T, H, hd).transpose(1, 2)
        k = linear(a, w, p + "self_attn.k_proj", qkv_bias).view(B, T, KV, hd).transpose(1, 2)
        v = linear(a, w, p + "self_attn.v_proj", qkv_bias).view(B, T, KV, hd).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        if past is not None:
            k = torch.cat([past[l][0], k], dim=2)
            v = torch.cat([past[l][1], v], dim=2)
        present.append((k, v))
        ks, vs = repeat_kv(k, n_rep), repeat_kv(v, n_rep)
        s = (q @ ks.transpose(2, 3)) * (hd ** -0.5)
        s = s.masked_fill(~allowed, torch.finfo(s.dtype).min)
        probs = torch.softmax(s, dim=-1)  # HF: in float32, a no-op here (float32 or float64 weights)
        ctx = (probs @ vs).transpose(1, 2).reshape(B, T, H * hd)
        x = x + linear(ctx, w, p + "self_attn.o_proj", o_bias)
        m = rms_norm(x, w[p + "post_attention_layernorm.weight"], eps)
        gate = m @ w[p + "mlp.gate_proj.weight"].T
        up = m @ w[p + "mlp.up_proj.weight"].T
        x = x + (torch.nn.functional.silu(gate) * up) @ w[p + "mlp.down_proj.weight"].T
    x = rms_norm(x, w["model.norm.weight"], eps)
    head = w["model.embed_tokens.weight"] if cfg.get("tie_word_embeddings") else w["lm_head.weight"]
    logits = x @ head.T
    values = (x @ w["v_head.summary.weight"].T + w["v_head.summary.bias"]).squeeze(-1)
    return logits, values, present


def greedy_generate(w, cfg, prompts, pad_id, max_new, banned=(), allowed=None):
    """Greedy decoding of left-padded prompts with a KV cache (HF generate's positions:
    cumsum(mask) - 1), the argmax over ids below `allowed` that are not `banned`. Returns the new
    ids and their log-probs (of the full distribution), per row."""
    import torch
    B = len(prompts)
    L = max(len(p) for p in prompts)
    ids = torch.tensor([[pad_id] * (L - len(p)) + p for p in prompts])
    mask = torch.tensor([[0] * (L - len(p)) + [1] * len(p) for p in prompts])
    positions = (mask.cumsum(-1) - 1).clamp(min=0)
    block = torch.zeros(cfg["vocab_size"], dtype=torch.bool)
    if allowed is not None:
        block[allowed:] = True
    for b in banned:
        block[b] = True
    out, lps = [[] for _ in range(B)], [[] for _ in range(B)]
    past, cur = None, ids
    for _ in range(max_new):
        logits, _, past = llama_forward(w, cfg, cur, mask, positions, past)
        logp = torch.log_softmax(logits[:, -1].double(), -1)
        nxt = logp.masked_fill(block[None], float("-inf")).argmax(-1)
        for b in range(B):
            out[b].append(int(nxt[b]))
            lps[b].append(float(logp[b, nxt[b]]))
        mask = torch.cat([mask, torch.ones(B, 1, dtype=mask.dtype)], dim=1)
        positions = positions[:, -1:] + 1
        cur = nxt[:, None]
    return out, lps
