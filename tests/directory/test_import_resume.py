"""A targets import in steps (issue 20): interrupted, it resumes where its committed batches end and
writes no duplicate; bad rows in any batch still refuse the whole file. Both databases."""
from __future__ import annotations

import io

import pytest
from click.testing import CliRunner
from sqlalchemy import func, inspect, select

from gateway.cli.main import cli
from gateway.directory.importing import staged
from gateway.directory.importing.importer import ImportFileError
from gateway.directory.importing.run import run_import
from gateway.directory.models import EligibilityChange, ImportJob, Target
from gateway.security.audit import AuditEntry
from gateway.security.principal import Principal
from tests.directory.test_import import ZH_TARGET_HEADER, csv_bytes, target_rows

OFFICE = Principal(role="county_office", name="导入测试")
ROWS = 250
BATCH = 100


class Interrupted(Exception):
    """Stands for a killed process: raised from the progress hook after a committed batch."""


def import_rows(gateway, data: bytes, *, partial=False, progress=None, notices=None):
    return run_import(gateway, OFFICE, "targets", io.BytesIO(data), "province.csv", partial=partial,
                      batch_size=BATCH, progress=progress, notice=(notices.append if notices is not None else None))


def interrupt_after(rows: int):
    def progress(done: int) -> None:
        if done >= rows:
            raise Interrupted(done)

    return progress


def targets(gateway) -> tuple[int, int]:
    """(rows, distinct USCCs) in the directory."""
    with gateway.read() as s:
        return s.execute(select(func.count(), func.count(Target.uscc.distinct()))).one()


def jobs(gateway) -> list[tuple]:
    with gateway.read() as s:
        return [tuple(r) for r in s.execute(select(ImportJob.id, ImportJob.status, ImportJob.staged_through,
                                                   ImportJob.total_rows).order_by(ImportJob.id))]


def stage_exists(gateway, job_id: int) -> bool:
    return inspect(gateway.engine).has_table(f"import_job_{job_id}_rows")


def audits(gateway) -> int:
    with gateway.read() as s:
        return s.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "targets.import"))


def test_an_interrupted_import_resumes_after_its_committed_batches(gateway, monkeypatch):
    data = csv_bytes(ZH_TARGET_HEADER, target_rows(ROWS))
    with pytest.raises(Interrupted):
        import_rows(gateway, data, progress=interrupt_after(2 * BATCH))
    [(job_id, status, staged_through, total)] = jobs(gateway)
    # Two batches committed (file rows 2..201, the header being row 1); nothing in the directory yet.
    assert (status, staged_through, total) == ("staging", 2 * BATCH + 1, 2 * BATCH)
    assert targets(gateway) == (0, 0) and stage_exists(gateway, job_id)

    parsed = []
    parse_row = staged.parse_row
    monkeypatch.setattr(staged, "parse_row", lambda number, *a: parsed.append(number) or parse_row(number, *a))
    notices: list[str] = []
    report = import_rows(gateway, data, notices=notices)
    assert "继续未完成的导入" in notices[0] and f"从文件第 {2 * BATCH + 2} 行继续" in notices[0]
    assert parsed == list(range(2 * BATCH + 2, ROWS + 2))  # the committed rows are not parsed again
    assert report.committed and (report.total_rows, report.created, report.updated) == (ROWS, ROWS, 0)
    assert targets(gateway) == (ROWS, ROWS)
    assert jobs(gateway) == [(job_id, "done", ROWS + 1, ROWS)] and not stage_exists(gateway, job_id)
    assert audits(gateway) == 1


def test_an_interrupted_apply_writes_nothing_and_the_rerun_applies_the_stage(gateway, monkeypatch):
    data = csv_bytes(ZH_TARGET_HEADER, target_rows(ROWS))
    apply = staged._apply

    def apply_then_die(conn, *args):
        apply(conn, *args)
        raise Interrupted("during the apply")

    monkeypatch.setattr(staged, "_apply", apply_then_die)
    with pytest.raises(Interrupted):
        import_rows(gateway, data)
    assert targets(gateway) == (0, 0) and audits(gateway) == 0
    [(job_id, status, _through, total)] = jobs(gateway)
    assert (status, total) == ("staged", ROWS)

    monkeypatch.setattr(staged, "_apply", apply)
    monkeypatch.setattr(staged, "parse_row", lambda *a: pytest.fail("a staged file is not parsed again"))
    notices: list[str] = []
    report = import_rows(gateway, data, notices=notices)
    assert f"全部 {ROWS} 行已校验并暂存" in notices[0]
    assert report.committed and report.created == ROWS
    assert targets(gateway) == (ROWS, ROWS) and audits(gateway) == 1
    assert jobs(gateway)[0][1] == "done"


def test_a_rerun_after_an_interruption_of_a_reimport_updates_without_duplicates(gateway):
    import_rows(gateway, csv_bytes(ZH_TARGET_HEADER, target_rows(ROWS)))
    changed = [row[:1] + [f"新名称{i}"] + row[2:] for i, row in enumerate(target_rows(ROWS + 50))]
    data = csv_bytes(ZH_TARGET_HEADER, changed)
    with pytest.raises(Interrupted):
        import_rows(gateway, data, progress=interrupt_after(BATCH))
    report = import_rows(gateway, data)
    assert (report.created, report.updated) == (50, ROWS)
    assert targets(gateway) == (ROWS + 50, ROWS + 50)
    with gateway.read() as s:
        assert s.scalar(select(func.count()).where(Target.name.like("新名称%"))) == ROWS + 50


def bad_file() -> bytes:
    rows = target_rows(ROWS)
    rows[3][2] = "公司"        # file row 5: an unknown type, in the first batch
    rows[227][0] = "123"       # file row 229: a short USCC, in the third batch
    rows[240][0] = rows[10][0]  # file row 242 repeats the USCC of row 12, two batches apart
    return csv_bytes(ZH_TARGET_HEADER, rows)


def test_bad_rows_in_any_batch_refuse_the_whole_file(gateway):
    report = import_rows(gateway, bad_file())
    assert not report.committed and report.rejected == 3 and report.total_rows == ROWS
    assert [(e.row, e.field) for e in report.errors] == [(5, "type"), (229, "uscc"), (242, "uscc")]
    assert "与第 12 行重复" in report.errors[2].message
    assert targets(gateway) == (0, 0) and audits(gateway) == 0
    [(job_id, status, _through, _total)] = jobs(gateway)
    assert status == "refused" and not stage_exists(gateway, job_id)
    # A refused job is not resumed: the same file is checked again, with the same result.
    again = import_rows(gateway, bad_file())
    assert [(e.row, e.field) for e in again.errors] == [(5, "type"), (229, "uscc"), (242, "uscc")]
    assert [j[1] for j in jobs(gateway)] == ["refused", "refused"]


def test_partial_keeps_the_good_rows_of_every_batch(gateway):
    report = import_rows(gateway, bad_file(), partial=True)
    assert report.committed and (report.created, report.rejected) == (ROWS - 3, 3)
    assert targets(gateway) == (ROWS - 3, ROWS - 3)


def test_an_interrupted_partial_import_keeps_its_errors(gateway):
    with pytest.raises(Interrupted):
        import_rows(gateway, bad_file(), partial=True, progress=interrupt_after(BATCH))
    report = import_rows(gateway, bad_file(), partial=True)
    assert [e.row for e in report.errors] == [5, 229, 242] and report.rejected == 3
    assert targets(gateway) == (ROWS - 3, ROWS - 3)


def test_eligibility_changes_are_logged_once_across_a_resume(gateway):
    import_rows(gateway, csv_bytes(ZH_TARGET_HEADER, target_rows(ROWS)))
    rows = [row + ["信用风险分类调整"] for row in target_rows(ROWS)]
    for row in rows[150:]:
        row[6] = "D"
    data = csv_bytes(ZH_TARGET_HEADER + ["变更原因"], rows)
    with pytest.raises(Interrupted):
        import_rows(gateway, data, progress=interrupt_after(BATCH))
    report = import_rows(gateway, data)
    assert report.committed and report.eligibility_change_count == ROWS - 150
    with gateway.read() as s:
        logged = s.execute(select(EligibilityChange.field, EligibilityChange.old_value, EligibilityChange.new_value,
                                  EligibilityChange.actor_role)).all()
    assert len(logged) == ROWS - 150 and set(logged) == {("risk_class", "C", "D", "county_office")}


def test_the_command_line_says_it_resumes(gateway, settings, tmp_path, monkeypatch):
    path = tmp_path / "province.csv"
    path.write_bytes(csv_bytes(ZH_TARGET_HEADER, target_rows(ROWS)))
    monkeypatch.setattr(staged, "STAGE_BATCH", BATCH)
    apply = staged._apply
    monkeypatch.setattr(staged, "_apply", lambda *a: (_ for _ in ()).throw(Interrupted("killed")))
    args = ["--database-url", settings.database_url, "--instance", str(settings.instance_path), "import", "targets",
            str(path)]
    first = CliRunner().invoke(cli, args)
    assert first.exit_code != 0 and "重新运行同一命令即从中断处继续" in first.output
    monkeypatch.setattr(staged, "_apply", apply)
    second = CliRunner().invoke(cli, args)
    assert second.exit_code == 0, second.output
    assert "继续未完成的导入" in second.output and f"导入完成：共 {ROWS} 行，新增 {ROWS}" in second.output
    assert targets(gateway) == (ROWS, ROWS)


def test_a_crash_inside_a_batch_loses_only_that_batch(gateway, monkeypatch):
    data = csv_bytes(ZH_TARGET_HEADER, target_rows(ROWS))
    parse_row = staged.parse_row

    def crash_at_row_150(number, *args):
        if number == 150:
            raise Interrupted("killed mid-batch")
        return parse_row(number, *args)

    monkeypatch.setattr(staged, "parse_row", crash_at_row_150)
    with pytest.raises(Interrupted):
        import_rows(gateway, data)
    [(job_id, status, staged_through, total)] = jobs(gateway)
    assert (status, staged_through, total) == ("staging", BATCH + 1, BATCH)
    with gateway.engine.connect() as conn:  # the half-written batch was rolled back
        assert conn.exec_driver_sql(f"SELECT count(*) FROM import_job_{job_id}_rows").scalar_one() == BATCH
    monkeypatch.setattr(staged, "parse_row", parse_row)
    report = import_rows(gateway, data)
    assert report.committed and report.created == ROWS and targets(gateway) == (ROWS, ROWS)


def test_a_file_unreadable_past_the_first_batches_is_refused_and_its_stage_dropped(gateway):
    data = csv_bytes(ZH_TARGET_HEADER, target_rows(600)) + b"\xff\xfe broken bytes\n"  # past the sniffed 64 KB
    with pytest.raises(ImportFileError, match="无法按"):
        import_rows(gateway, data)
    [(job_id, status, _through, _total)] = jobs(gateway)
    assert status == "refused" and not stage_exists(gateway, job_id) and targets(gateway) == (0, 0)
