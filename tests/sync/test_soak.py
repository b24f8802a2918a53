"""A short version of ``bench/sync.py``: published results, the standalone mock platform with
faults (5xx, hangs past the timeout, dropped connections, 429 bursts), worker processes SIGKILLed
in the middle of a batch and restarted; nothing lost, nothing stored twice.

PostgreSQL: two workers, one of them killed; SQLite: the one worker, killed once.
"""
from __future__ import annotations

from bench.sync import SoakConfig, run_soak

SHORT = dict(records=300, kills_per_worker=1, max_kills=1, batch_size=20, seed=7, connect_timeout=0.5,
             read_timeout=1.0, lease_seconds=3, kill_interval=(0.0, 0.2), kill_mid_batch=True, timeout=240.0,
             backoff_base=0.05, backoff_max=0.5, retry_after_max=0.5, poll_seconds=0.1)


def test_short_soak_loses_nothing_and_stores_nothing_twice(database_url, tmp_path):
    is_sqlite = database_url.startswith("sqlite")
    config = SoakConfig(**SHORT, workers=1 if is_sqlite else 2)
    config.faults["hangs"]["seconds"] = 2.0
    result = run_soak(database_url, config, tmp_path, compare=False)
    comparison = result["comparison"]
    assert result["soak"]["kills"] == 1
    assert (comparison["delivered"], comparison["lost"], comparison["duplicates"]) == (300, 0, 0)
    assert comparison["conflicts"] == 0 and comparison["receipt_mismatch"] == 0
    assert comparison["db_delivered"] == 300 and comparison["db_says_delivered_but_missing"] == 0
    assert result["faults_injected"] > 0
    assert result["summary"].startswith("delivered=300 lost=0 duplicates=0 rate=")
    # Every worker stopped cleanly on SIGTERM at the end.
    assert result["soak"]["exit_codes"] == [0] * result["workers"]
