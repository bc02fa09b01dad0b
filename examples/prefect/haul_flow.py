"""Prefect flow: pull the production model from the hub, then sync the evaluation results back,
each through the local Haul node's REST API, waiting for the result.

Needs examples/python/haul_client.py importable and HAUL_API / HAUL_TOKEN (or HAUL_HOME) set.
Run: python haul_flow.py
"""
from __future__ import annotations

from prefect import flow, get_run_logger, task

from haul_client import HaulClient


@task(retries=2, retry_delay_seconds=60)
def pull_model(peer: str, path: str, destination: str, key: str) -> str:
    haul = HaulClient.from_env()
    done = haul.wait(haul.pull(peer, path, destination, idempotency_key=key).id, poll=5)
    return done.id


@task(retries=2, retry_delay_seconds=60)
def push_results(source: str, destination: str, key: str) -> int:
    haul = HaulClient.from_env()
    done = haul.wait(haul.sync(source, destination, idempotency_key=key).id, poll=5)
    return done.bytes_total


@flow(name="haul-model-roundtrip")
def model_roundtrip(run: str = "manual") -> None:
    log = get_run_logger()
    t = pull_model("hub", "models/prod", "/models/prod", key=f"prefect-{run}-pull")
    log.info("model pulled by transfer %s", t)
    n = push_results("/eval/results", "hub:results/site-17", key=f"prefect-{run}-push")
    log.info("results synced: %d bytes", n)


if __name__ == "__main__":
    model_roundtrip()
