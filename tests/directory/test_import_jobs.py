"""Import jobs (issue 20): one run of a file at a time, proven with two real processes and their
own connections; abandoned jobs' stages pruned, a running job's never. Both databases."""
from __future__ import annotations

import io
import os
import subprocess
import sys
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import update

from gateway.cli.main import cli
from gateway.directory.importing import jobs as import_jobs
from gateway.directory.importing.run import run_import
from gateway.directory.models import ImportJob
from gateway.errors import Conflict
from tests.directory.test_import import ZH_TARGET_HEADER, csv_bytes, target_rows
from tests.directory.test_import_resume import BATCH, OFFICE, ROWS, Interrupted, interrupt_after, jobs, stage_exists, targets

SHUANGSUI = str(Path(sys.executable).parent / "shuangsui")


def command(settings, *args: str) -> list[str]:
    return [SHUANGSUI, "--database-url", settings.database_url, "--instance", str(settings.instance_path), *args]


def run_process(settings, *args: str) -> subprocess.CompletedProcess:
    """The command line in a process of its own (its own interpreter, its own connections)."""
    root = str(Path(__file__).resolve().parents[2])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))}
    return subprocess.run(command(settings, *args), capture_output=True, text=True, env=env, timeout=120)


class PausedImport:
    """An import running in a thread of this process, held after its first committed batch."""

    def __init__(self, gateway, data: bytes):
        self.reached, self.go = threading.Event(), threading.Event()
        self.report, self.error = None, None

        def progress(done: int) -> None:
            self.reached.set()
            assert self.go.wait(120)

        def run() -> None:
            try:
                self.report = run_import(gateway, OFFICE, "targets", io.BytesIO(data), "province.csv",
                                         batch_size=BATCH, progress=progress)
            except BaseException as exc:  # noqa: BLE001  (handed to the test)
                self.error = exc

        self.thread = threading.Thread(target=run)
        self.thread.start()
        assert self.reached.wait(120), "the import did not commit its first batch"

    def finish(self):
        self.go.set()
        self.thread.join(120)
        if self.error is not None:
            raise self.error
        return self.report


def test_a_second_run_of_a_file_being_imported_is_refused_naming_the_job(gateway, settings, tmp_path):
    data = csv_bytes(ZH_TARGET_HEADER, target_rows(ROWS))
    path = tmp_path / "province.csv"
    path.write_bytes(data)
    first = PausedImport(gateway, data)
    try:
        [(job_id, status, _through, _total)] = jobs(gateway)
        assert status == "staging"
        second = run_process(settings, "import", "targets", str(path))
        assert second.returncode != 0
        assert f"该文件正在由导入任务 {job_id} 导入" in second.stderr and "同一文件不能同时导入两次" in second.stderr
        assert f"已校验 {BATCH} 行" in second.stderr
        # The same refusal in this process (an upload while the command line runs): nothing staged twice.
        with pytest.raises(Conflict) as refused:
            run_import(gateway, OFFICE, "targets", io.BytesIO(data), "again.csv", batch_size=BATCH)
        assert refused.value.code == "import_running"
        assert [j[0] for j in jobs(gateway)] == [job_id]
    finally:
        report = first.finish()
    assert report.committed and report.created == ROWS and targets(gateway) == (ROWS, ROWS)
    assert jobs(gateway) == [(job_id, "done", ROWS + 1, ROWS)]
    # Once the first run has ended, the same file imports again (an update of every row).
    again = run_process(settings, "import", "targets", str(path))
    assert again.returncode == 0, again.stderr
    assert f"导入完成：共 {ROWS} 行，新增 0，更新 {ROWS}" in again.stdout
    assert targets(gateway) == (ROWS, ROWS)


def test_a_killed_runs_lock_is_gone_with_it_and_the_rerun_resumes(gateway, settings, tmp_path):
    """A run killed outright (SIGKILL, no clean-up) leaves no lock behind: the next run resumes."""
    path = tmp_path / "province.csv"
    path.write_bytes(csv_bytes(ZH_TARGET_HEADER, target_rows(ROWS)))
    script = ("import os, signal, sys\n"
              "from gateway.directory.importing import staged\n"
              f"staged.STAGE_BATCH = {BATCH}\n"
              "staged._check = lambda *a: os.kill(os.getpid(), signal.SIGKILL)\n"
              "from gateway.cli.main import cli\n"
              "cli(sys.argv[1:])\n")
    root = str(Path(__file__).resolve().parents[2])
    killed = subprocess.run([sys.executable, "-c", script, *command(settings, "import", "targets", str(path))[1:]],
                            env={**os.environ, "PYTHONPATH": root}, capture_output=True, text=True, timeout=120)
    assert killed.returncode == -9, killed.stderr
    [(job_id, status, _through, total)] = jobs(gateway)
    assert (status, total) == ("staged", ROWS)
    rerun = run_process(settings, "import", "targets", str(path))
    assert rerun.returncode == 0, rerun.stderr
    assert "继续未完成的导入" in rerun.stderr and targets(gateway) == (ROWS, ROWS)
    assert jobs(gateway)[0][:2] == (job_id, "done")


def age(gateway, job_id: int, days: int) -> None:
    with gateway.write() as s:
        job = s.get(ImportJob, job_id)
        s.execute(update(ImportJob).where(ImportJob.id == job_id)
                  .values(updated_at=job.updated_at - timedelta(days=days)))


def test_prune_drops_abandoned_stages_but_not_a_running_jobs(gateway, settings):
    abandoned = csv_bytes(ZH_TARGET_HEADER, target_rows(ROWS))
    with pytest.raises(Interrupted):
        run_import(gateway, OFFICE, "targets", io.BytesIO(abandoned), "old.csv", batch_size=BATCH,
                   progress=interrupt_after(BATCH))
    recent = csv_bytes(ZH_TARGET_HEADER, target_rows(ROWS)[:120])
    with pytest.raises(Interrupted):
        run_import(gateway, OFFICE, "targets", io.BytesIO(recent), "recent.csv", batch_size=BATCH,
                   progress=interrupt_after(BATCH))
    old_id, recent_id = (j[0] for j in jobs(gateway))
    age(gateway, old_id, 10)
    running = PausedImport(gateway, csv_bytes(ZH_TARGET_HEADER, target_rows(ROWS + 10)))
    running_id = jobs(gateway)[-1][0]
    age(gateway, running_id, 10)
    try:
        args = ["--database-url", settings.database_url, "--instance", str(settings.instance_path), "import", "jobs"]
        listing = CliRunner().invoke(cli, args)
        assert listing.exit_code == 0, listing.output
        assert f"任务 {old_id}  暂存中（未完成）  old.csv  共 {BATCH} 行，拒绝 0，暂存 {BATCH} 行" in listing.output
        pruned = CliRunner().invoke(cli, [*args, "--prune-older-than-days", "7"])
        assert pruned.exit_code == 0, pruned.output
        assert f"已清理 1 个超过 7 天未再运行的未完成导入任务（任务 {old_id}）" in pruned.output
        assert f"任务 {running_id} 的文件正在导入，未清理" in pruned.output
        assert f"任务 {old_id}  已放弃  old.csv" in pruned.output and "无暂存表" in pruned.output
    finally:
        report = running.finish()
    assert report.committed and report.created == ROWS + 10
    states = {j[0]: j[1] for j in jobs(gateway)}
    assert states == {old_id: "abandoned", recent_id: "staging", running_id: "done"}
    assert not stage_exists(gateway, old_id) and stage_exists(gateway, recent_id)
    # The abandoned file, run again, starts afresh as a new job.
    report = run_import(gateway, OFFICE, "targets", io.BytesIO(abandoned), "old.csv", batch_size=BATCH)
    assert report.committed and report.total_rows == ROWS and len(jobs(gateway)) == 4
    assert import_jobs.prune(gateway.engine, timedelta(days=7)) == ([], [])
    # The recent job goes when its time has come (and leaves no stage to the next test).
    assert import_jobs.prune(gateway.engine, timedelta(0)) == ([recent_id], [])
    assert not stage_exists(gateway, recent_id)
