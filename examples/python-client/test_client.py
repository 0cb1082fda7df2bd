"""Contract tests of the Python client against a live server.

Run by packages/server/test/python-client.test.ts, which starts a server and sets STEPCODER_URL and
STEPCODER_API_KEY; by hand: ``stepcoder serve`` then ``python3 -m unittest -v test_client``.
"""

import json
import os
import threading
import unittest

import trl_reward
import verl_reward
from stepcoder_client import StepcoderClient, StepcoderError, token_offsets

ADD = {
    "id": "add",
    "prompt": "Add two numbers.",
    "language": "python",
    "canonicalSolutions": ["def add(a, b):\n    if a > 0:\n        return a + b\n    return b + a\n"],
    "tests": {"kind": "call", "fnName": "add", "inputs": [[1, 2], [2, 3]], "outputs": [3, 5]},
}
PREFIX = "def add(a, b):\n"
BODY = "    if a > 0:\n        return a + b\n    return b + a\n"


class ClientContract(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.client = StepcoderClient()
        cls.client.wait_ready(60)

    def test_score_rewards_masks_and_order(self):
        pieces = BODY.splitlines(keepends=True)
        results = self.client.score(
            [
                {"problem": ADD, "givenPrefix": PREFIX, "completion": BODY, "tokenOffsets": token_offsets(pieces)},
                {"problem": ADD, "completion": "def add(a, b):\n    return a - b\n"},
                {"problem": ADD, "completion": "def add(a, b)\n"},
                {"problem": ADD},
            ],
            mask="line",
        )
        self.assertEqual([r["index"] for r in results], [0, 1, 2, 3])
        self.assertEqual(results[0]["outcome"], "pass")
        self.assertEqual(results[0]["reward"], 1)
        # `return b + a` never runs (every test has a > 0): FGO masks its token out.
        self.assertEqual(results[0]["weights"], [1, 1, 0])
        self.assertEqual((results[1]["outcome"], results[1]["reward"]), ("wrong_answer", -0.3))
        self.assertEqual((results[2]["outcome"], results[2]["reward"]), ("compile_error", -1))
        self.assertFalse(results[3]["ok"])
        self.assertEqual(results[3]["error"]["issues"][0]["path"], "items[3].completion")

    def test_non_bmp_offsets_are_python_string_indices(self):
        completion = "    return a + b  # \U0001F642\n"
        [r] = self.client.score(
            [{"problem": ADD, "givenPrefix": PREFIX, "completion": completion, "tokenOffsets": [[0, 17], [17, len(completion)]]}]
        )
        self.assertEqual(r["outcome"], "pass")
        self.assertEqual(len(r["weights"]), 2)

    def test_execute_curriculum_and_run_code(self):
        result = self.client.execute(ADD["canonicalSolutions"][0], ADD["tests"], coverage=True)
        self.assertEqual(result["outcome"], "pass")
        self.assertEqual(result["coverage"]["lines"], [1, 2, 3])
        stage0 = self.client.curriculum_prompt(ADD, 0)
        self.assertEqual(stage0["givenPrefix"] + stage0["target"], ADD["canonicalSolutions"][0])
        self.assertGreater(stage0["stageCount"], 1)
        run = self.client.run_code("print(input()[::-1])", stdin="abc")
        self.assertEqual(run["status"], "Success")
        self.assertEqual(run["run_result"]["stdout"], "cba\n")

    def test_errors_are_typed(self):
        with self.assertRaises(StepcoderError) as bad:
            self.client.execute("print(1)", {"kind": "stdio", "cases": [{"input": 1, "output": ""}]})
        self.assertEqual(bad.exception.status, 400)
        self.assertEqual(bad.exception.issues[0]["path"], "tests.cases[0].input")
        wrong_key = StepcoderClient(api_key="not-the-key-0123456789")
        with self.assertRaises(StepcoderError) as denied:
            wrong_key.execute("print(1)", {"kind": "stdio", "cases": []})
        self.assertEqual(denied.exception.status, 401)


@unittest.skipUnless(os.environ.get("STEPCODER_BUSY_URL"), "needs a server with maxConcurrency 1, maxQueue 0")
class Backpressure(unittest.TestCase):
    """429 + Retry-After from a server that runs one request and queues none."""

    SLOW = ("import time\ntime.sleep(0.4)\nprint(1)", {"kind": "stdio", "cases": [{"input": "", "output": "1\n"}]})

    def _concurrently(self, client, n):
        outcomes = []

        def call():
            try:
                outcomes.append(client.execute(*self.SLOW)["outcome"])
            except StepcoderError as err:
                outcomes.append(err.status)

        threads = [threading.Thread(target=call) for _ in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return outcomes

    def test_retries_after_429_until_served(self):
        client = StepcoderClient(os.environ["STEPCODER_BUSY_URL"], retries=8)
        self.assertEqual(self._concurrently(client, 3), ["pass", "pass", "pass"])

    def test_without_retries_the_429_surfaces(self):
        client = StepcoderClient(os.environ["STEPCODER_BUSY_URL"], retries=0)
        self.assertIn(429, self._concurrently(client, 3))


class TrainerFunctions(unittest.TestCase):
    """The example reward functions, called with the arguments TRL and veRL pass them."""

    def test_trl_reward_function(self):
        rewards = trl_reward.stepcoder_reward(
            prompts=["p1", "p2"],
            completions=[[{"role": "assistant", "content": BODY}], [{"role": "assistant", "content": "    return a - b\n"}]],
            problem=[json.dumps(ADD), json.dumps(ADD)],
            given_prefix=[PREFIX, PREFIX],
            completion_ids=[[1], [2]],
        )
        self.assertEqual(rewards, [1, -0.3])

    def test_verl_reward_functions(self):
        fenced = "Here it is:\n```python\n" + ADD["canonicalSolutions"][0] + "```\n"
        one = verl_reward.compute_score(
            data_source="apps", solution_str=fenced, ground_truth=json.dumps(ADD), extra_info={"index": 0}
        )
        self.assertEqual(one, {"score": 1.0, "outcome": "pass", "pass_rate": 1.0})
        batch = verl_reward.compute_score_batch(
            data_sources=["apps", "apps"],
            solution_strs=[fenced, "```python\ndef add(a, b):\n    return a - b\n```"],
            ground_truths=[json.dumps(ADD), json.dumps(ADD)],
            extra_infos=[{}, {}],
        )
        self.assertEqual([b["outcome"] for b in batch], ["pass", "wrong_answer"])
        self.assertEqual(batch[1]["score"], -0.3)


if __name__ == "__main__":
    unittest.main()
