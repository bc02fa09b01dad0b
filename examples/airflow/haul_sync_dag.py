"""Airflow DAG: every night, sync the day's new training data to the hub through the local Haul node,
then fail the task (with the node's error and fix) if the sync failed.

Needs examples/python/haul_client.py on the PYTHONPATH (or copied next to this DAG), and the node's
API address and token in the environment of the workers: HAUL_API=http://127.0.0.1:7401 and
HAUL_TOKEN (from 'haul token show'), or HAUL_HOME pointing at the node's home.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from airflow import DAG
from airflow.operators.python import PythonOperator

from haul_client import HaulClient


def sync_to_hub(source: str, destination: str, **context) -> dict:
    haul = HaulClient.from_env()
    # The run id as idempotency key: an Airflow retry of this task after a lost response returns the
    # transfer already started instead of starting a second one.
    t = haul.sync(source, destination, idempotency_key=f"airflow-{context['run_id']}")
    done = haul.wait(t.id, timeout=6 * 3600, poll=10)  # raises HaulError on failure: the task fails
    return {"transfer": done.id, "bytes": done.bytes_total, "files": done.files_total}


with DAG(
    dag_id="haul_nightly_sync",
    start_date=datetime(2026, 1, 1),
    schedule="0 2 * * *",
    catchup=False,
    default_args={"retries": 2, "retry_delay": timedelta(minutes=5)},
    tags=["haul"],
) as dag:
    PythonOperator(
        task_id="sync_training_data",
        python_callable=sync_to_hub,
        op_kwargs={"source": "/data/training/new", "destination": "hub:incoming/site-17"},
    )
