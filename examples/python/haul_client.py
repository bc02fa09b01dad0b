"""A small typed client for a Haul node's REST API, standard library only (urllib, json).

    from haul_client import HaulClient
    haul = HaulClient.from_env()                     # HAUL_API, HAUL_TOKEN or HAUL_HOME/api.token
    t = haul.sync("/data/new", "hub:incoming/site-17")
    t = haul.wait(t.id)                              # raises HaulError if it failed
    print(t.state, t.bytes_total)

Errors are the node's RFC 9457 problem details as HaulError(status, code, error, detail, fix); the
code is the same number the haul CLI exits with.
"""
from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from typing import Any, Optional

__all__ = ["HaulClient", "HaulError", "Transfer", "Job", "Receipt"]


class HaulError(Exception):
    """A request the node refused or a transfer that failed."""

    def __init__(self, status: int, code: Optional[int], error: Optional[str], detail: str, fix: Optional[str] = None):
        super().__init__(f"{detail}" + (f"; {fix}" if fix else ""))
        self.status, self.code, self.error, self.detail, self.fix = status, code, error, detail, fix


@dataclass(frozen=True)
class Transfer:
    id: str
    kind: str
    peer: str
    path: str
    destination: Optional[str]
    state: str           # queued, running, paused, done, failed, cancelled
    phase: str
    percent: float
    bytes_done: int
    bytes_total: int
    files_done: int
    files_total: int
    rate_bytes_per_sec: float
    manifest_hash: Optional[str]
    error_code: Optional[int]
    error: Optional[str]
    fix: Optional[str]

    @property
    def finished(self) -> bool:
        return self.state in ("done", "failed", "cancelled")

    @staticmethod
    def parse(d: dict[str, Any]) -> "Transfer":
        return Transfer(d["id"], d["kind"], d["peer"], d["path"], d.get("destination"), d["state"], d["phase"],
                        float(d["percent"]), int(d["bytesDone"]), int(d["bytesTotal"]), int(d["filesDone"]),
                        int(d["filesTotal"]), float(d["rateBytesPerSec"]), d.get("manifestHash"),
                        d.get("errorCode"), d.get("error"), d.get("fix"))


@dataclass(frozen=True)
class Job:
    name: str
    command: list[str]
    every: Optional[str]
    watch: Optional[str]
    paused: bool
    next_run: Optional[str]
    last_exit_code: Optional[int]
    last_message: Optional[str]

    @staticmethod
    def parse(d: dict[str, Any]) -> "Job":
        return Job(d["name"], list(d["command"]), d.get("every"), d.get("watch"), bool(d["paused"]),
                   d.get("nextRun"), d.get("lastExitCode"), d.get("lastMessage"))


@dataclass(frozen=True)
class Receipt:
    manifest_hash: str
    peer: str
    files: int
    bytes: int
    delivered_at: str

    @staticmethod
    def parse(d: dict[str, Any]) -> "Receipt":
        return Receipt(d["manifestHash"], d["peer"], int(d["files"]), int(d["bytes"]), d["deliveredAt"])


class HaulClient:
    def __init__(self, base_url: str, token: str, timeout: float = 30.0):
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout = timeout

    @classmethod
    def from_env(cls) -> "HaulClient":
        """HAUL_API (default http://127.0.0.1:7401) and HAUL_TOKEN, else the token file in HAUL_HOME (default ~/.haul)."""
        token = os.environ.get("HAUL_TOKEN")
        if not token:
            home = os.environ.get("HAUL_HOME") or os.path.expanduser("~/.haul")
            with open(os.path.join(home, "api.token"), encoding="ascii") as f:
                token = f.read().strip()
        return cls(os.environ.get("HAUL_API", "http://127.0.0.1:7401"), token)

    # --- resources -------------------------------------------------------------------------------
    def node(self) -> dict[str, Any]:
        return self._call("GET", "/api/v1/node")

    def peers(self) -> list[dict[str, Any]]:
        return self._call("GET", "/api/v1/peers")

    def send(self, path: str, peer: str, max_rate: Optional[str] = None, idempotency_key: Optional[str] = None) -> Transfer:
        return self._start({"kind": "send", "path": path, "peer": peer, "maxRate": max_rate}, idempotency_key)

    def pull(self, peer: str, path: str, destination: str, idempotency_key: Optional[str] = None) -> Transfer:
        return self._start({"kind": "pull", "peer": peer, "path": path, "destination": destination}, idempotency_key)

    def sync(self, source: str, destination: str, delete: bool = True, idempotency_key: Optional[str] = None) -> Transfer:
        """rclone-style sync (delete=True) or copy (delete=False) between two ends, run by the node."""
        return self._start({"kind": "sync" if delete else "copy", "path": source, "destination": destination}, idempotency_key)

    def transfer(self, transfer_id: str) -> Transfer:
        return Transfer.parse(self._call("GET", f"/api/v1/transfers/{transfer_id}"))

    def transfers(self) -> list[Transfer]:
        return [Transfer.parse(t) for t in self._call("GET", "/api/v1/transfers")]

    def cancel(self, transfer_id: str) -> Transfer:
        return Transfer.parse(self._call("POST", f"/api/v1/transfers/{transfer_id}/cancel"))

    def wait(self, transfer_id: str, timeout: float = 24 * 3600, poll: float = 1.0) -> Transfer:
        """Polls until the transfer finishes; returns it when done, raises HaulError when it failed or was cancelled."""
        deadline = time.monotonic() + timeout
        while True:
            t = self.transfer(transfer_id)
            if t.state == "done":
                return t
            if t.finished:
                raise HaulError(200, t.error_code, t.state, t.error or f"transfer {t.id} {t.state}", t.fix)
            if time.monotonic() > deadline:
                raise TimeoutError(f"transfer {transfer_id} still {t.state} after {timeout} s")
            time.sleep(poll)

    def jobs(self) -> list[Job]:
        return [Job.parse(j) for j in self._call("GET", "/api/v1/jobs")]

    def schedule_job(self, name: str, command: list[str], every: Optional[str] = None, watch: Optional[str] = None) -> Job:
        return Job.parse(self._call("POST", "/api/v1/jobs", {"name": name, "command": command, "every": every, "watch": watch}))

    def run_job(self, name: str) -> dict[str, Any]:
        return self._call("POST", f"/api/v1/jobs/{name}/run")

    def receipts(self) -> list[Receipt]:
        return [Receipt.parse(r) for r in self._call("GET", "/api/v1/receipts")]

    # --- plumbing --------------------------------------------------------------------------------
    def _start(self, body: dict[str, Any], key: Optional[str]) -> Transfer:
        # Always an idempotency key: a POST retried after a network error then never starts a second transfer.
        return Transfer.parse(self._call("POST", "/api/v1/transfers", {k: v for k, v in body.items() if v is not None},
                                         {"Idempotency-Key": key or str(uuid.uuid4())}))

    def _call(self, method: str, path: str, body: Optional[dict[str, Any]] = None, headers: Optional[dict[str, str]] = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base_url + path, data=data, method=method)
        req.add_header("Authorization", f"Bearer {self.token}")
        if data is not None:
            req.add_header("Content-Type", "application/json")
        for k, v in (headers or {}).items():
            req.add_header(k, v)
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as r:
                raw = r.read()
                return json.loads(raw) if raw else None
        except urllib.error.HTTPError as e:
            raw = e.read()
            try:
                p = json.loads(raw)
            except ValueError:
                raise HaulError(e.code, None, None, f"HTTP {e.code} {e.reason}") from None
            raise HaulError(e.code, p.get("code"), p.get("error"), p.get("detail", str(e)), p.get("fix")) from None
