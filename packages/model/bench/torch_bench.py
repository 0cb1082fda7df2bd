"""PyTorch CPU baseline for bench/model.ts: the identical GPT-2 config and training step.

Reads a JSON job from argv[1] ({config, batch, seq, steps, threads}); prints one JSON line.
"""
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts"))

import torch  # noqa: E402
from torch_gpt2 import gpt2_forward, init_weights  # noqa: E402

job = json.loads(sys.argv[1])
torch.set_num_threads(job["threads"])
cfg = job["config"]
w = init_weights(cfg, seed=1)
params = list(w.values())
opt = torch.optim.Adam(params, lr=1e-4)
B, T = job["batch"], job["seq"]
ids = torch.randint(0, 256, (B, T))
mask = torch.ones(B, T)


def step():
    opt.zero_grad()
    logits, _ = gpt2_forward(w, cfg, ids, mask)
    loss = torch.nn.functional.cross_entropy(logits[:, :-1].reshape(-1, logits.shape[-1]), ids[:, 1:].reshape(-1))
    loss.backward()
    opt.step()


step()
start = time.perf_counter()
for _ in range(job["steps"]):
    step()
elapsed = time.perf_counter() - start
print(json.dumps({"trainTokensPerSec": B * T * job["steps"] / elapsed, "torch": torch.__version__,
                  "threads": torch.get_num_threads()}))
