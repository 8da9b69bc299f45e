"""Under `moc-idp serve` (two Granian workers) the metrics of both workers are combined
(prometheus-client multiprocess mode, set up by idp/server_config.py), and the live gauges of
a worker that has ended stop counting."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from tests.integration.test_serve import free_port, wait_for


def healthz_count(text: str) -> float:
    return sum(sample.value for family in text_string_to_metric_families(text)
               for sample in family.samples
               if sample.name == "moc_idp_http_requests_total"
               and sample.labels.get("endpoint") == "healthz")


def worker_files(folder: Path) -> set[str]:
    return {p.name for p in folder.glob("counter_*.db")}


@pytest.mark.parametrize("given_folder", [True, False])
def test_two_workers_share_one_set_of_metrics(migrated, keys_dir, tmp_path, given_folder):
    port = free_port()
    issuer = f"http://127.0.0.1:{port}"
    folder = tmp_path / "metrics"
    folder.mkdir()
    (folder / "counter_999999.db").write_bytes(b"stale")  # a previous run's file: removed
    env = {**os.environ, "IDP_ISSUER": issuer, "IDP_DATABASE_URL": migrated,
           "IDP_KEYS_DIR": str(keys_dir)}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    if given_folder:
        env["PROMETHEUS_MULTIPROC_DIR"] = str(folder)
    moc_idp = Path(sys.executable).with_name("moc-idp")
    process = subprocess.Popen([str(moc_idp), "serve", "--port", str(port), "--workers", "2",
                                "--threads", "1"], env=env, stderr=subprocess.PIPE)
    try:
        wait_for(f"{issuer}/healthz", process)
        served = 1
        # New connections each time until both workers have answered some (each writes its
        # own file on its first count).
        while served < 400 and (served < 20 or (given_folder and len(worker_files(folder)) < 2)):
            assert requests.get(f"{issuer}/healthz", timeout=5).status_code == 200
            served += 1
        scraped = requests.get(f"{issuer}/metrics", timeout=5)
        assert scraped.status_code == 200
        assert healthz_count(scraped.text) == served
        if given_folder:
            assert not (folder / "counter_999999.db").exists()
            assert len(worker_files(folder)) == 2
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 0


def test_the_live_gauges_of_an_ended_worker_stop_counting(tmp_path, monkeypatch):
    """A worker that crashed leaves its gauge file behind; the next scrape drops it."""
    from prometheus_client.values import MultiProcessValue

    from idp.metrics_endpoint import forget_ended_workers, process_exists

    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    ended.wait()
    assert not process_exists(ended.pid) and process_exists(os.getpid())
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    for pid in (ended.pid, os.getpid()):
        value = MultiProcessValue(lambda pid=pid: pid)(
            "gauge", "moc_idp_review_queue_length", "moc_idp_review_queue_length", (), (),
            "help", multiprocess_mode="livemostrecent")
        value.set(3)
    assert {p.name for p in tmp_path.glob("gauge_live*")} == {
        f"gauge_livemostrecent_{ended.pid}.db", f"gauge_livemostrecent_{os.getpid()}.db"}
    forget_ended_workers(str(tmp_path))
    assert {p.name for p in tmp_path.glob("gauge_live*")} == {f"gauge_livemostrecent_{os.getpid()}.db"}
