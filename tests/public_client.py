"""An anonymous client of a running studio that speaks Gradio's queue protocol over plain HTTP.

It sees what any visitor sees: the served ``/config`` (every event with a backend function, named
or not, callable by its ``fn_index``) and the answer of each call, so the public tests probe the
studio exactly as a stranger could, without the Gradio client's own checks in the way.
"""
from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from typing import Any

import httpx

FILE_TYPES = {"file", "audio", "image", "video", "uploadbutton", "model3d", "gallery"}


@dataclass
class Endpoint:
    """One event handler of the served app: its index, API name and input components."""

    fn_index: int
    api_name: str
    visibility: str
    inputs: list[dict] = field(default_factory=list)  # [{"id", "type", "label", "props"}]

    @property
    def label(self) -> str:
        return f"/{self.api_name}" if self.visibility == "public" else f"#{self.fn_index}({self.api_name})"


@dataclass
class Answer:
    """What a call came back with: ``ok`` and the output, or the error text shown to the user."""

    ok: bool
    output: Any = None
    error: str | None = None


def endpoints(url: str) -> list[Endpoint]:
    """Every dependency of the served app that runs Python (what a client can trigger)."""
    config = httpx.get(f"{url}/config", timeout=30).json()
    info = httpx.get(f"{url}/gradio_api/info", params={"all_endpoints": "true"}, timeout=30).json()
    components = {c["id"]: c for c in config["components"]}
    found = []
    for dep in config["dependencies"]:
        if not dep.get("backend_fn"):
            continue
        params = info.get("named_endpoints", {}).get(f"/{dep.get('api_name')}", {}).get("parameters", [])
        names = [p.get("parameter_name") for p in params] if len(params) == len(dep["inputs"]) else []
        inputs = [{"id": i, "type": components[i]["type"], "props": components[i].get("props", {}),
                   "label": components[i].get("props", {}).get("label"),
                   "parameter": names[n] if names else None} for n, i in enumerate(dep["inputs"])]
        found.append(Endpoint(dep["id"], str(dep.get("api_name")), dep.get("api_visibility", "public"), inputs))
    return found


def call(url: str, fn_index: int, data: list, timeout_s: float = 120.0, session_hash: str | None = None) -> Answer:
    """Join the queue with ``data`` and read the event stream until the call completes."""
    session = session_hash or secrets.token_hex(6)
    body = {"data": data, "fn_index": fn_index, "session_hash": session, "event_data": None,
            "trigger_id": None}
    with httpx.Client(timeout=timeout_s) as http:
        joined = http.post(f"{url}/gradio_api/queue/join",
                           content=json.dumps(body, allow_nan=True), headers={"content-type": "application/json"})
        if joined.status_code != 200:
            return Answer(False, error=f"HTTP {joined.status_code}: {joined.text[:500]}")
        with http.stream("GET", f"{url}/gradio_api/queue/data", params={"session_hash": session}) as stream:
            for line in stream.iter_lines():
                if not line.startswith("data:"):
                    continue
                message = json.loads(line[5:])
                kind = message.get("msg")
                if kind == "unexpected_error":
                    return Answer(False, error=message.get("message"))
                if kind == "process_completed":
                    output = message.get("output") or {}
                    if message.get("success"):
                        return Answer(True, output=output.get("data"))
                    return Answer(False, error=output.get("error") or message.get("title") or "")
    return Answer(False, error="the event stream ended without an answer")


def upload(url: str, name: str, data: bytes) -> dict:
    """Upload bytes as a visitor would; returns the FileData payload for a file input."""
    response = httpx.post(f"{url}/gradio_api/upload", files={"files": (name, data)}, timeout=60)
    response.raise_for_status()
    path = response.json()[0]
    return {"path": path, "orig_name": name, "meta": {"_type": "gradio.FileData"}}
