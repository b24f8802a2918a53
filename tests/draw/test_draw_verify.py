"""Verifying a record from itself, and the supervisors' team check; tampering must be caught and located."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.draw.teams import Team
from gateway.draw.verify import verify_public_inspectors, verify_record, verify_teams


def findings(report):
    return {f.subject: f for f in (*report.checks, *report.strata)}


def test_untouched_record_matches(record):
    report = verify_record(record)
    assert report.ok, report.lines()
    assert report.mismatched_strata == []
    assert [f.subject for f in report.strata] == [s["key"] for s in record["strata"]]
    assert report.lines()[-1].startswith("结论：一致")
    assert verify_record(record, expected_population_sha256=record["population_sha256"]).ok


def test_changed_selected_uscc_names_the_stratum(record):
    stratum = record["strata"][3]
    outsider = next(u for u in stratum["population"] if u not in stratum["selected"])
    stratum["selected"][0] = outsider
    report = verify_record(record)
    assert not report.ok
    assert report.mismatched_strata == [stratum["key"]]
    assert "第 1 位" in findings(report)[stratum["key"]].reason
    assert not findings(report)["tasks"].ok
    assert stratum["key"] in report.lines()[-1]


def test_changed_population_uscc_names_the_stratum(record):
    stratum = record["strata"][2]
    position = next(i for i, u in enumerate(stratum["population"]) if u not in stratum["selected"])
    old = stratum["population"][position]
    stratum["population"][position] = old[:-1] + ("0" if old[-1] != "0" else "1")
    stratum["population"].sort()
    report = verify_record(record)
    assert report.mismatched_strata == [stratum["key"]]
    assert "population_sha256" in findings(report)[stratum["key"]].reason
    assert not findings(report)["population_sha256"].ok


def test_changed_seed_digit_fails_every_stratum(record):
    seed = record["seed"]
    record["seed"] = seed[:3] + ("7" if seed[3] != "7" else "8") + seed[4:]
    report = verify_record(record)
    assert not findings(report)["seed"].ok
    assert report.mismatched_strata == [s["key"] for s in record["strata"] if s["sample_size"] > 0]


def test_changed_contribution_and_seed_together_still_fail(record):
    contribution = record["contributions"][1]
    contribution["digits"] = "1" + contribution["digits"][1:]
    record["seed"] = "-".join(c["digits"] for c in record["contributions"])
    report = verify_record(record)
    assert findings(report)["seed"].ok
    assert report.mismatched_strata


def test_wrong_sample_size_and_announced_hash(record):
    stratum = record["strata"][0]
    stratum["sample_size"] -= 1
    stratum["selected"].pop()
    report = verify_record(record, expected_population_sha256="0" * 64)
    assert report.mismatched_strata == [stratum["key"]]
    assert "ceil(" in findings(report)[stratum["key"]].reason
    assert "冻结时公布" in findings(report)["population_sha256"].reason


def test_changed_ratio_breaks_population_sha256(record):
    record["strata"][1]["ratio"] = "0.5"
    report = verify_record(record)
    assert not findings(report)["population_sha256"].ok
    assert record["strata"][1]["key"] in report.mismatched_strata


def test_task_composition_is_checked(record):
    task = record["tasks"][0]
    task["inspectors"] = [m for m in task["inspectors"] if m["department"] != "SCJG"]
    report = verify_record(record)
    assert report.mismatched_strata == []
    assert "缺少部门：SCJG" in findings(report)["tasks"].reason


def test_malformed_record_does_not_crash(record):
    assert not verify_record([]).ok
    assert not verify_record({"format": "shuangsui.draw/1"}).ok
    broken = {**record, "strata": [*record["strata"][:-1], {"key": "bad"}]}
    report = verify_record(broken)
    assert "bad" in report.mismatched_strata


@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_any_single_uscc_change_is_located(draw, data):
    pristine = draw["record"]
    record = {
        **pristine,
        "strata": [dict(s, population=list(s["population"]), selected=list(s["selected"])) for s in pristine["strata"]],
    }
    index = data.draw(st.integers(0, len(record["strata"]) - 1))
    stratum = record["strata"][index]
    field = data.draw(st.sampled_from(["population", "selected"]))
    values = stratum[field]
    position = data.draw(st.integers(0, len(values) - 1))
    replacement = data.draw(st.text("0123456789ABCDEFGHJKLMNPQRTUWXY", min_size=18, max_size=18))
    if replacement in values:
        return
    values[position] = replacement
    report = verify_record(record)
    assert stratum["key"] in report.mismatched_strata


def test_supervisors_team_check(draw):
    report = verify_teams(draw["requests"], draw["inspectors"], draw["seed"], draw["teams"], draw["conflicts"])
    assert report.ok and len(report.tasks) == len(draw["teams"])

    swapped = list(draw["teams"])
    first = swapped[0]
    department = next(i.department for i in draw["inspectors"] if i.id == first.members[1])
    stranger = next(
        i.id for i in draw["inspectors"] if i.department == department and i.eligible and i.id not in first.members
    )
    swapped[0] = replace(first, members=(first.members[0], stranger, *first.members[2:]))
    report = verify_teams(draw["requests"], draw["inspectors"], draw["seed"], swapped, draw["conflicts"])
    assert report.mismatched == [first.uscc]

    conflicted = [(first.members[0], first.uscc)]
    report = verify_teams(draw["requests"], draw["inspectors"], draw["seed"], draw["teams"], conflicted)
    assert first.uscc in report.mismatched

    extra = [*draw["teams"], Team("91410822NOTDRAWN000", ("SCJG-1", "SCJG-2"))]
    report = verify_teams(draw["requests"], draw["inspectors"], draw["seed"], extra, draw["conflicts"])
    assert report.mismatched == ["91410822NOTDRAWN000"]


def test_public_inspector_ids_match_internal_teams(record, draw):
    report = verify_public_inspectors(record, draw["teams"], draw["inspectors"], draw["opaque_key"])
    assert report.ok
    record["tasks"][2]["inspectors"][0]["id"] = "0" * 16
    report = verify_public_inspectors(record, draw["teams"], draw["inspectors"], draw["opaque_key"])
    assert report.mismatched == [record["tasks"][2]["uscc"]]
