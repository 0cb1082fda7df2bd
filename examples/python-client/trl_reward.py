"""TRL ``GRPOTrainer`` reward function backed by the stepcoder server.

    from trl import GRPOConfig, GRPOTrainer
    from trl_reward import stepcoder_reward

    trainer = GRPOTrainer(
        model="Qwen/Qwen2.5-Coder-0.5B-Instruct",
        reward_funcs=[stepcoder_reward],
        train_dataset=dataset,          # columns: "prompt", "problem" (JSON), optional "given_prefix"
        args=GRPOConfig(output_dir="out"),
    )

TRL calls a reward function with the batch's prompts and completions plus every dataset column as
a keyword argument. Each row's ``problem`` is a StepCoder Problem as JSON (what
``/v1/curriculum/prompt`` and the dataset loaders use); ``given_prefix`` is the CCCS prefix the
prompt ended with (empty when the model writes the whole program). The server runs the whole
batch concurrently and returns the StepCoder reward (+1 pass, -0.3 wrong answer, -0.6 runtime
error/timeout, -1 compile error). An ``infra_error`` (the sandbox failed, not the program) is
returned as ``None``, which TRL treats as "no reward for this sample".

The server's per-token FGO weights need a trainer whose loss takes a token mask; GRPOTrainer's
reward functions return scalars, so this example uses rewards only.

Server: ``stepcoder serve`` (see the package README); URL and key from STEPCODER_URL and
STEPCODER_API_KEY.
"""

from __future__ import annotations

import json
from typing import Any, List, Optional

from stepcoder_client import StepcoderClient

_client = StepcoderClient()


def _text(completion: Any) -> str:
    # Conversational datasets give [{"role": "assistant", "content": "..."}]; standard ones a string.
    if isinstance(completion, list):
        return "".join(m.get("content", "") for m in completion if isinstance(m, dict))
    return str(completion)


def stepcoder_reward(
    prompts: List[Any],
    completions: List[Any],
    problem: List[Any],
    given_prefix: Optional[List[str]] = None,
    **kwargs: Any,
) -> List[Optional[float]]:
    """One reward per completion, from the server's ``/v1/score``."""
    items = []
    for i, completion in enumerate(completions):
        p = problem[i]
        items.append(
            {
                "problem": json.loads(p) if isinstance(p, str) else p,
                "givenPrefix": (given_prefix[i] if given_prefix else "") or "",
                "completion": _text(completion),
            }
        )
    results = _client.score(items, reward="stepcoder", mask="none")
    rewards: List[Optional[float]] = []
    for r in results:
        if not r["ok"]:
            raise ValueError(f"stepcoder server rejected item {r['index']}: {r['error']['message']}")
        rewards.append(r["reward"])
    return rewards
