"""veRL custom reward function backed by the stepcoder server.

veRL config (``custom_reward_function`` takes a file and a function name):

    custom_reward_function.path=examples/python-client/verl_reward.py
    custom_reward_function.name=compute_score            # NaiveRewardManager: one call per sample
    # or, with reward_model.reward_manager=batch:
    custom_reward_function.name=compute_score_batch      # one /v1/score call per batch

Each row's ``reward_model.ground_truth`` is a StepCoder Problem as JSON; ``extra_info`` may carry
``given_prefix`` (the CCCS prefix the prompt ended with). veRL passes the decoded response as
``solution_str``; a fenced code block, if any, is what runs.

veRL cannot leave a sample out of the update, so an ``infra_error`` (the sandbox failed, not the
program) scores 0.0 and is reported in the ``outcome`` field for the logs.

Servers and keys: STEPCODER_URL and STEPCODER_API_KEY. To use veRL's built-in ``sandbox_fusion``
reward instead, point ``reward_model.sandbox_fusion.url`` at ``http://HOST:PORT/run_code`` (add
``?api_key=KEY`` when the server requires a key): the server speaks SandboxFusion's contract.
"""

from __future__ import annotations

import json
import re
from typing import Any, Dict, List, Optional

from stepcoder_client import StepcoderClient

_client = StepcoderClient()
_FENCE = re.compile(r"```[A-Za-z0-9_+-]*\n(.*?)```", re.S)


def _program(solution_str: str) -> str:
    blocks = _FENCE.findall(solution_str)
    return blocks[-1] if blocks else solution_str


def _item(solution_str: str, ground_truth: Any, extra_info: Optional[Dict[str, Any]]) -> Dict[str, Any]:
    problem = json.loads(ground_truth) if isinstance(ground_truth, str) else ground_truth
    prefix = (extra_info or {}).get("given_prefix") or ""
    return {"problem": problem, "givenPrefix": prefix, "completion": _program(solution_str)}


def _as_score(result: Dict[str, Any]) -> Dict[str, Any]:
    if not result["ok"]:
        return {"score": 0.0, "outcome": "invalid_item", "pass_rate": 0.0}
    reward = result["reward"]
    total = result["total"] or 1
    return {
        "score": float(reward) if reward is not None else 0.0,
        "outcome": result["outcome"],
        "pass_rate": result["passed"] / total,
    }


def compute_score(
    data_source: str,
    solution_str: str,
    ground_truth: Any,
    extra_info: Optional[Dict[str, Any]] = None,
    **kwargs: Any,
) -> Dict[str, Any]:
    """NaiveRewardManager signature: one sample."""
    [result] = _client.score([_item(solution_str, ground_truth, extra_info)], mask="none")
    return _as_score(result)


def compute_score_batch(
    data_sources: List[str],
    solution_strs: List[str],
    ground_truths: List[Any],
    extra_infos: List[Optional[Dict[str, Any]]],
    **kwargs: Any,
) -> List[Dict[str, Any]]:
    """BatchRewardManager signature: the whole batch in one request, run concurrently server-side."""
    items = [_item(s, g, e) for s, g, e in zip(solution_strs, ground_truths, extra_infos)]
    return [_as_score(r) for r in _client.score(items, mask="none")]
