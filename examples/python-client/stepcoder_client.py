"""Dependency-free client for the stepcoder server (`stepcoder serve`).

Standard library only (urllib), so it drops into any trainer environment: TRL, veRL, OpenRLHF.

    from stepcoder_client import StepcoderClient
    client = StepcoderClient("http://127.0.0.1:8080", api_key=None)
    [result] = client.score([{"problem": problem, "completion": text}])
    result["reward"], result["outcome"]

Busy servers answer 429 with Retry-After; the client waits and retries (``retries`` times) so a
trainer sees backpressure as latency, not as failed samples.
"""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
from typing import Any, Dict, Iterable, List, Optional, Sequence

__all__ = ["StepcoderClient", "StepcoderError", "token_offsets"]


class StepcoderError(Exception):
    """An error response: ``status`` is the HTTP status, ``code`` the server's error code."""

    def __init__(self, status: int, code: str, message: str, issues: Optional[list] = None):
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.issues = issues or []


class StepcoderClient:
    """One server. Thread-safe: every call opens its own connection."""

    def __init__(
        self,
        base_url: Optional[str] = None,
        api_key: Optional[str] = None,
        timeout: float = 300.0,
        retries: int = 8,
    ) -> None:
        self.base_url = (base_url or os.environ.get("STEPCODER_URL", "http://127.0.0.1:8080")).rstrip("/")
        self.api_key = api_key if api_key is not None else os.environ.get("STEPCODER_API_KEY")
        self.timeout = timeout
        self.retries = retries

    # ------------------------------------------------------------------ endpoints

    def execute(self, program: str, tests: Dict[str, Any], language: str = "python", **extra: Any) -> Dict[str, Any]:
        """Run one program against tests; returns the ExecutionResult (outcome, tests, coverage...)."""
        return self._post("/v1/execute", {"program": program, "tests": tests, "language": language, **extra})

    def score(self, items: Sequence[Dict[str, Any]], **defaults: Any) -> List[Dict[str, Any]]:
        """Execute, reward and mask a batch; one result per item, in order.

        Each item: ``problem`` (or ``tests`` + ``language``), ``completion``, optional
        ``givenPrefix``, ``tokenOffsets`` (code-point ``[start, end)`` per generated token, as
        Hugging Face ``offset_mapping`` gives them) or ``tokenizer``, ``mask``, ``reward``.
        ``defaults`` (``mask=``, ``reward=``, ``tokenizer=``, ``limits=``...) apply to every item.
        A result is ``{"ok": True, "outcome", "reward", "weights"?, ...}`` or
        ``{"ok": False, "error": {...}}`` for an item the server rejected.
        """
        body: Dict[str, Any] = {"items": list(items)}
        if defaults:
            body["defaults"] = defaults
        return self._post("/v1/score", body)["results"]

    def curriculum_prompt(self, problem: Dict[str, Any], stage: int, curriculum: str = "steps") -> Dict[str, Any]:
        """CCCS prompt at a stage: ``prompt``, ``givenPrefix``, ``completionStart``, ``stageCount``."""
        return self._post("/v1/curriculum/prompt", {"problem": problem, "stage": stage, "curriculum": curriculum})

    def run_code(self, code: str, language: str = "python", stdin: Optional[str] = None, **extra: Any) -> Dict[str, Any]:
        """SandboxFusion-compatible run: ``status``, ``run_result`` {stdout, stderr, return_code...}."""
        return self._post("/run_code", {"code": code, "language": language, "stdin": stdin, **extra})

    def ready(self) -> bool:
        """True when the server's executors are warm (``GET /readyz``)."""
        try:
            return self._request("GET", "/readyz", None).get("ready") is True
        except (StepcoderError, urllib.error.URLError, OSError):
            return False

    def wait_ready(self, timeout: float = 60.0) -> None:
        """Block until ``ready()`` or raise TimeoutError."""
        deadline = time.monotonic() + timeout
        while not self.ready():
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.base_url} not ready after {timeout} s")
            time.sleep(0.2)

    # ------------------------------------------------------------------ transport

    def _post(self, path: str, body: Dict[str, Any]) -> Any:
        return self._request("POST", path, body)

    def _request(self, method: str, path: str, body: Optional[Dict[str, Any]]) -> Any:
        data = None if body is None else json.dumps(body).encode("utf-8")
        headers = {"Accept": "application/json"}
        if data is not None:
            headers["Content-Type"] = "application/json"
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        for attempt in range(self.retries + 1):
            req = urllib.request.Request(self.base_url + path, data=data, headers=headers, method=method)
            try:
                with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                    return json.loads(resp.read().decode("utf-8"))
            except urllib.error.HTTPError as err:
                payload = _json_or_none(err.read())
                retry_after = err.headers.get("Retry-After")
                if err.code in (429, 503) and retry_after is not None and attempt < self.retries:
                    time.sleep(min(float(retry_after), 30.0) * (1 + attempt * 0.5))
                    continue
                error = (payload or {}).get("error", {}) if isinstance(payload, dict) else {}
                raise StepcoderError(
                    err.code,
                    error.get("code", "HTTP_ERROR"),
                    error.get("message", err.reason or ""),
                    error.get("issues"),
                ) from None
        raise AssertionError("unreachable")


def _json_or_none(raw: bytes) -> Any:
    try:
        return json.loads(raw.decode("utf-8"))
    except ValueError:
        return None


def token_offsets(pieces: Iterable[str]) -> List[List[int]]:
    """``[start, end)`` code-point offsets of consecutive token texts.

    ``pieces`` are the generated tokens' texts, whose concatenation is the completion. With a Hugging
    Face fast tokenizer prefer ``offset_mapping`` (``tokenizer(text, return_offsets_mapping=True)``),
    which is already in these units.
    """
    out: List[List[int]] = []
    at = 0
    for piece in pieces:
        out.append([at, at + len(piece)])
        at += len(piece)
    return out
