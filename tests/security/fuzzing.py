"""A schemathesis run against the gateway's own OpenAPI document, as a library.

Used by ``tests/security/test_fuzz.py`` (a bounded number of examples) and ``bench/fuzz.py`` (a
longer run). Every operation is called with generated valid and invalid inputs; a failure is a
5xx, or a response that does not match the schema the document declares for it. Failures are
collected, not raised, so one run reports all of them without Hypothesis shrinking each.
"""
from __future__ import annotations

import warnings
from collections import Counter
from dataclasses import dataclass, field

import hypothesis
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings

ROLES_FOR_FUZZING = ("county_office", "department_operator", "public")


@dataclass
class FuzzFailure:
    operation: str
    role: str
    mode: str
    status: int | None
    reason: str
    reproduce: str = ""


@dataclass
class FuzzReport:
    operations: int = 0
    examples: int = 0
    statuses: Counter = field(default_factory=Counter)
    failures: list[FuzzFailure] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # operations schemathesis could not load
    seed: int | None = None

    def summary(self) -> str:
        codes = ", ".join(f"{k}: {v}" for k, v in sorted(self.statuses.items()))
        return (f"{self.operations} operations, {self.examples} examples, {len(self.failures)} failures "
                f"(statuses {codes}; seed {self.seed})")


def seed_directories(app, headers: dict[str, str]) -> None:
    """A few rows in every directory, so listings and reads return data whose shape gets checked."""
    from gateway.demo.generate import make_uscc

    client = app.test_client()
    for i in range(1, 4):
        uscc = make_uscc("enterprise", 900 + i)
        client.post("/api/v1/targets", headers=headers, json={"uscc": uscc, "name": f"模糊测试{i}有限公司",
                                                              "type": "enterprise", "licences": ["成品油经营批准证书"]})
        inspector = client.post("/api/v1/inspectors", headers=headers, json={
            "department_code": "market", "name": f"测试{i}", "gender": "male",
            "certificate_no": f"41082377{i:05d}", "phone": f"1390000{i:04d}"}).json
        client.post("/api/v1/conflicts", headers=headers, json={"inspector_id": inspector["id"], "uscc": uscc,
                                                                "reason": "近亲属任职"})


def run_fuzz(app, headers_by_role: dict[str, dict[str, str]], max_examples: int = 10,
             modes: tuple[str, ...] = ("positive", "negative"), seed: int | None = 410823,
             operation_filter=None) -> FuzzReport:
    import schemathesis
    from schemathesis import GenerationMode
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import response_schema_conformance

    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    report = FuzzReport()
    if seed is None:
        import random

        seed = random.SystemRandom().randrange(2**32)
    report.seed = seed
    checks = [not_a_server_error, response_schema_conformance]
    for result in schema.get_all_operations():
        if not hasattr(result, "ok"):  # an operation schemathesis cannot read counts as a failure
            report.errors.append(str(result.err())[:2000])
            continue
        operation = result.ok()
        if operation_filter is not None and not operation_filter(operation):
            continue
        report.operations += 1
        for role, headers in headers_by_role.items():
            for mode in modes:
                _run_operation(report, operation, role, headers, mode, GenerationMode(mode), checks,
                               max_examples, seed)
    return report


def _run_operation(report, operation, role, headers, mode, generation_mode, checks, max_examples, seed):
    label = f"{operation.method.upper()} {operation.path}"
    strategy = operation.as_strategy(generation_mode=generation_mode)

    @hypothesis.seed(seed)
    @hsettings(max_examples=max_examples, deadline=None, database=None,
               suppress_health_check=list(HealthCheck), phases=[hypothesis.Phase.generate],
               print_blob=False)
    @given(case=strategy)
    def one(case):
        report.examples += 1
        try:
            response = case.call(headers=dict(headers))
        except Exception as exc:
            report.failures.append(FuzzFailure(label, role, mode, None, f"call raised {exc!r}"))
            return
        report.statuses[response.status_code] += 1
        try:
            case.validate_response(response, checks=checks, headers=dict(headers))
        except (Exception, BaseExceptionGroup) as exc:  # schemathesis raises a group of check failures
            reproduce = ""
            try:
                reproduce = case.as_curl_command(headers=dict(headers))
            except Exception:
                pass
            report.failures.append(FuzzFailure(label, role, mode, response.status_code, str(exc)[:2000], reproduce))

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            one()
        except hypothesis.errors.Unsatisfiable:
            pass  # schemathesis could not build an invalid request for this operation (nothing to negate)
