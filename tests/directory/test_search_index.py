"""Name and credit-code searches go through an index (issue 20) and find exactly what a scan finds.
The inspectors' name search of the staff directory too.

On both databases: the results of ``target_match`` (public search, task search) and of the staff
directory's ``target_search`` equal those of the plain ``LIKE`` scan they replace, for texts of 1, 2,
3 and more characters, after inserts, renames and deletes; and the plans of the statements the real
searches run read ``targets`` through an index, never by a scan. On PostgreSQL the table is vacuumed
and analysed first (a GIN index's own statistics are only updated by VACUUM), and the planner is left
to choose.
"""
from __future__ import annotations

import random
import re

import pytest
from sqlalchemy import delete, or_, select, text, update
from sqlalchemy.exc import StatementError

from gateway.api.pagination import fetch_page
from gateway.directory.models import Inspector, Target
from gateway.directory.queries import NAME_FILLERS, contains, inspector_search, target_match, target_search
from gateway.directory.search import name_contains_shape, name_parameters, name_search_shape
from gateway.results.public import search_targets
from gateway.security.principal import Principal
from tests.query_plans import captured, query_plan

# A few hundred characters, so that a 1 or 2 character text is selective and the planners prefer an index.
CHARS = "嘉应食品有限公司武陟县沁盛造纸农业合作社五金商店超市药房ABcd_%" + "".join(chr(0x4E00 + i) for i in range(400))
SPECIAL = ["嘉应", "嘉", "应嘉应", "Ab嘉应", "x_y%z", "武陟县嘉应食品有限公司", "公司", "武陟县沁盛造纸有限公司", "嘉应食品厂"]
TEXTS = ["嘉应", "嘉", "应", "公司", "嘉应食", "嘉应食品", "有限公司", "武陟县嘉应", "ab", "AB", "b嘉", "_", "%",
         "x_y", "司", "沁盛造纸公司", "嘉应 食品", "不存在的名称"]


def _uscc(n: int) -> str:
    return f"91410823MA{n:08d}"


@pytest.fixture
def targets(gateway):
    rng = random.Random(20)
    names = SPECIAL + ["".join(rng.choice(CHARS) for _ in range(rng.randint(1, 14))) for _ in range(3000)]
    with gateway.write() as session:
        session.add_all(Target(uscc=_uscc(i), name=name, type="enterprise") for i, name in enumerate(names))
    if gateway.engine.dialect.name == "postgresql":
        with gateway.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE targets")
    return gateway


def _scan_match(q: str):
    """The public search before issue 20: code equality OR name LIKE, scanning the table."""
    squeezed = "".join(q.split())
    clauses = [Target.uscc == squeezed.upper(), contains(Target.name, q.strip())]
    core = squeezed
    for word in NAME_FILLERS:
        core = core.replace(word, "")
    if len(core) >= 2 and core != q.strip():
        clauses.append(contains(Target.name, core))
    return or_(*clauses)


def _ids(session, clause) -> list[int]:
    return list(session.scalars(select(Target.id).where(clause).order_by(Target.id)))


def _staff_ids(session, q: str) -> list[int]:
    return [t.id for t in session.scalars(target_search({"q": q}))]


def _scan_staff_ids(session, q: str) -> list[int]:
    """The staff directory's search before issue 20."""
    q = q.strip()
    return _ids(session, or_(contains(Target.name, q), Target.uscc == q.upper()))


def _assert_same_as_scan(gateway):
    with gateway.read() as session:
        for q in TEXTS + [_uscc(3), _uscc(3).lower(), " " + _uscc(5)[:9] + " " + _uscc(5)[9:]]:
            found = _ids(session, target_match(q))
            assert found == _ids(session, _scan_match(q)), q
            assert _staff_ids(session, q) == _scan_staff_ids(session, q), q
        assert _ids(session, target_match("嘉应"))  # the texts do find something
        assert _ids(session, target_match(_uscc(3))) == [session.scalar(select(Target.id).where(Target.uscc == _uscc(3)))]


def test_index_search_finds_what_a_scan_finds_after_inserts_renames_and_deletes(targets):
    gateway = targets
    _assert_same_as_scan(gateway)
    with gateway.write() as session:
        session.execute(update(Target).where(Target.id % 3 == 0).values(name=Target.name + "嘉应"))
        session.execute(delete(Target).where(Target.id % 7 == 0))
        session.add(Target(uscc=_uscc(9999), name="新嘉应", type="enterprise"))
    _assert_same_as_scan(gateway)
    with gateway.read() as session:
        assert "新嘉应" in [t.name for t in session.scalars(select(Target).where(target_match("新嘉")))]


def _plans(gateway, statements, table_name: str = "targets") -> list[str]:
    """The plan of every captured statement that reads ``table_name``, one string each."""
    with gateway.engine.connect() as conn:
        return [query_plan(conn, statement, parameters) for statement, parameters in statements
                if re.search(rf"\b{table_name}\b", statement)]


def _assert_no_bare_scan(gateway, plan, table):
    """``plan`` reads ``table`` through an index, never by scanning it."""
    if gateway.engine.dialect.name == "sqlite":
        # "SCAN targets_name_fts VIRTUAL TABLE INDEX 0:M1" is the FTS index; a bare scan of targets is not
        assert not re.search(rf"SCAN {table}(?!_name_)\b", plan), plan
    else:
        assert not re.search(rf"Seq Scan on {table}\b", plan), plan


def _assert_indexed(gateway, statements, index_names):
    plans = _plans(gateway, statements)
    assert plans
    for plan in plans:
        _assert_no_bare_scan(gateway, plan, "targets")
        if gateway.engine.dialect.name == "sqlite":
            assert "SEARCH targets USING" in plan, plan
        assert any(name in plan for name in index_names), plan


SEARCHES = {  # query: the indexes its plan shows
    "sqlite": {_uscc(3): ["sqlite_autoindex_targets_1"], "嘉应食品": ["targets_name_fts VIRTUAL TABLE INDEX 0:M"],
               "嘉应": ["targets_name_terms VIRTUAL TABLE"], "沁盛造纸公司": ["targets_name_fts VIRTUAL TABLE INDEX 0:M"]},
    "postgresql": {_uscc(3): ["targets_uscc_key", "uq_targets_uscc"], "嘉应食品": ["ix_targets_name_trgm"],
                   "嘉应": ["ix_targets_name_grams"], "沁盛造纸公司": ["ix_targets_name_trgm", "ix_targets_name_grams"]},
}


@pytest.mark.parametrize("q", ["uscc", "嘉应食品", "嘉应", "沁盛造纸公司"])
def test_public_search_plans_use_an_index(targets, q):
    gateway = targets
    searches = SEARCHES[gateway.engine.dialect.name]
    q = _uscc(3) if q == "uscc" else q
    with gateway.read() as session, captured(gateway.engine) as statements:
        page = search_targets(session, Principal(role="public"), q, 1, 20)
    assert page.total >= 1
    _assert_indexed(gateway, statements, searches[q])


@pytest.mark.parametrize("q", ["uscc", "嘉应食品", "嘉应"])
def test_staff_directory_search_plans_use_an_index(targets, q):
    gateway = targets
    searches = SEARCHES[gateway.engine.dialect.name]
    q = _uscc(3) if q == "uscc" else q
    with gateway.read() as session, captured(gateway.engine) as statements:
        page = fetch_page(session, target_search({"q": q}), 1, 20)
    assert page.total >= 1
    _assert_indexed(gateway, statements, searches[q])


def test_a_scan_would_be_seen(targets):
    """The plan check is not vacuous: a LIKE on an unindexed column shows a scan of targets."""
    gateway = targets
    with gateway.read() as session, captured(gateway.engine) as statements:
        session.execute(select(Target).where(contains(Target.business_scope, "嘉应食品"))).all()
    plan = _plans(gateway, statements)[0]
    assert re.search(r"SCAN targets(?!_name_)\b|Seq Scan on targets\b", plan), plan


def test_search_objects_exist_at_head(targets):
    with targets.engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            names = set(conn.scalars(text("SELECT name FROM sqlite_master WHERE type IN ('table', 'trigger')")))
            assert {"targets_name_fts", "targets_name_terms", "targets_name_fts_insert", "targets_name_fts_update",
                    "targets_name_fts_delete"} <= names
        else:
            names = set(conn.scalars(text("SELECT indexname FROM pg_indexes WHERE tablename = 'targets'")))
            assert {"ix_targets_name_trgm", "ix_targets_name_grams"} <= names


# --- the inspectors (staff directory) -------------------------------------------------------------

INSPECTOR_TEXTS = ["王", "王伟", "伟", "张小明", "小明", "明", "李", "x", "_", "不存在"]


@pytest.fixture
def inspectors(gateway):
    rng = random.Random(9)
    names = ["王伟", "张小明", "王", "小明王伟", "x_y"] + [
        "".join(rng.choice(CHARS) for _ in range(rng.randint(1, 4))) for _ in range(2000)]
    with gateway.write() as session:
        session.add_all(Inspector(department_code="market", name=name, gender="男", certificate_no=f"C{i:06d}")
                        for i, name in enumerate(names))
    if gateway.engine.dialect.name == "postgresql":
        with gateway.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE inspectors")
    return gateway


def _inspector_ids(session, clause) -> list[int]:
    return list(session.scalars(select(Inspector.id).where(clause).order_by(Inspector.id)))


def test_inspector_search_finds_what_a_scan_finds(inspectors):
    gateway = inspectors
    for _ in range(2):  # as created, then after renames and deletes
        with gateway.read() as session:
            for q in INSPECTOR_TEXTS:
                found = [i.id for i in session.scalars(inspector_search({"q": q}))]
                assert found == _inspector_ids(session, contains(Inspector.name, q)), q
            assert {"王伟", "小明王伟"} <= {i.name for i in session.scalars(inspector_search({"q": "王伟"}))}
        with gateway.write() as session:
            session.execute(update(Inspector).where(Inspector.id % 3 == 0).values(name=Inspector.name + "伟"))
            session.execute(delete(Inspector).where(Inspector.id % 5 == 0))


@pytest.mark.parametrize("q", ["张小明", "王伟"])
def test_inspector_search_plans_use_an_index(inspectors, q):
    gateway = inspectors
    with gateway.read() as session, captured(gateway.engine) as statements:
        page = fetch_page(session, inspector_search({"q": q}), 1, 20)
    assert page.total >= 1
    plans = _plans(gateway, statements, "inspectors")
    for plan in plans:
        _assert_no_bare_scan(gateway, plan, "inspectors")
        assert ("inspectors_name_" if gateway.engine.dialect.name == "sqlite" else "ix_inspectors_name_") in plan, plan


@pytest.mark.parametrize("q", ["嘉应", "公司", "嘉应食品", "不存在的名称"])
def test_public_search_pages_and_totals_equal_a_scans(targets, q):
    """The public search counts the rows it finds in the statement that reads its page (a window
    count): every page, and the one past the last, has the scan's rows in the scan's order and the
    scan's total."""
    gateway = targets
    with gateway.read() as session:
        scan = list(session.scalars(select(Target.id).where(_scan_match(q)).order_by(Target.name, Target.id)))
        size = 7
        last = max(1, -(-len(scan) // size))
        for number in (1, 2, last, last + 1):
            page = search_targets(session, Principal(role="public"), q, number, size)
            assert page.total == len(scan), (q, number)
            assert [hit.id for hit in page.items] == scan[(number - 1) * size:number * size], (q, number)


def test_a_name_search_built_once_serves_every_text_of_its_shape_and_needs_its_values(targets):
    """The public search builds its statement once per shape (texts of 1-2 or 3+ characters) and
    runs it with each search's values: it finds what a scan finds for every text of that shape, one
    after another, and without the values it refuses to run rather than search for other texts."""
    gateway = targets
    with gateway.read() as session:
        for texts in (["嘉应"], ["嘉"], ["嘉应食品"], ["公司", "沁盛造纸"], ["嘉应", "应"], ["x_y%z"], ["不存在的名称"]):
            shape = name_search_shape(texts)
            statement = select(Target.id).where(name_contains_shape(shape)).order_by(Target.id)
            for others in (texts, [t[::-1] for t in texts]):
                assert name_search_shape(others) == shape
                expected = _ids(session, or_(*(contains(Target.name, t) for t in others)))
                assert list(session.scalars(statement, name_parameters(others))) == expected, others
            with pytest.raises(StatementError, match="required for bind parameter"):
                session.scalars(statement).all()


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_postgresql_plans_every_search_with_its_values(gateway):
    """psycopg prepares a statement run five times; PostgreSQL's generic plan for it would not know
    the searched text and read all of targets. The gateway's connections plan each execution."""
    with gateway.engine.connect() as conn:
        assert conn.exec_driver_sql("SHOW plan_cache_mode").scalar() == "force_custom_plan"
