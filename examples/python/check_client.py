"""Exercises haul_client against a running node (used by the test suite; standard library only).

Environment: HAUL_API, HAUL_TOKEN, SRC (a local folder), PEER (a trusted peer), COPY_TO (a local folder).
"""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from haul_client import HaulClient, HaulError  # noqa: E402

haul = HaulClient.from_env()
node = haul.node()
assert node["health"] == "ok", node
assert any(p["name"] == os.environ["PEER"] for p in haul.peers())

# A send and a local copy, each started with an idempotency key and waited for.
t = haul.send(os.environ["SRC"], os.environ["PEER"], idempotency_key="pipeline-run-1")
again = haul.send(os.environ["SRC"], os.environ["PEER"], idempotency_key="pipeline-run-1")
assert again.id == t.id, (again.id, t.id)
done = haul.wait(t.id, timeout=120, poll=0.2)
assert done.state == "done" and done.percent == 100 and done.bytes_total > 0, done
c = haul.wait(haul.sync(os.environ["SRC"], os.environ["COPY_TO"], delete=False).id, timeout=120, poll=0.2)
assert c.state == "done", c
assert any(r.manifest_hash == done.manifest_hash for r in haul.receipts())

# Failures come back typed, with the CLI's codes.
try:
    haul.send("/no/such/path", os.environ["PEER"])
    raise SystemExit("expected an error")
except HaulError as e:
    assert e.status == 404 and e.code == 12 and "no such file" in e.detail, vars(e)
try:
    haul.wait(haul.sync(os.environ["SRC"], "nobody:f/x").id, timeout=60, poll=0.2)
    raise SystemExit("expected a failed transfer")
except HaulError as e:
    assert e.code == 10 and e.error == "failed", vars(e)
try:
    HaulClient(haul.base_url, "wrong").node()
    raise SystemExit("expected 401")
except HaulError as e:
    assert e.status == 401 and e.code == 17, vars(e)

print("ok", done.id, done.bytes_total)
