"""results: inspection results, attachments, dispositions, risk events"""
from gateway.migrations import helpers as h

revision = "0005_results"
down_revision = "0003_audit_outbox"


def upgrade() -> None:
    h.create_table(
        "risk_events",
        h.ref("target_id", "targets.id"),
        *h.strings(source_type=16),
        h.ref("source_id"),
        *h.strings(chain=64),
        *h.jsons("rules"),
        *h.strings(baseline_risk_class=1, risk_class_before=1, risk_class_after=1),
        *h.jsons("lists_set"),
        h.at("at"),
        unique=[("source_type", "source_id")],
        indexes=["chain", "target_id"],
    )

    h.create_table(
        "attachments",
        h.ref("task_id", "tasks.id"),
        *h.strings(sha256=64, filename=255, content_type=64),
        *h.integers("size"),
        h.actor("uploaded_by"),
        h.ref("uploaded_by_inspector_id", "inspectors.id", nullable=True),
        h.at("uploaded_at"),
        indexes=["sha256", "task_id"],
    )

    h.create_table(
        "inspection_results",
        h.ref("task_id", "tasks.id"),
        *h.integers("version"),
        h.status(),
        h.ref("supersedes_id", "inspection_results.id", nullable=True),
        *h.texts("correction_reason"),
        *h.jsons("checklists", "result_codes"),
        *h.flags("has_problems", "requires_follow_up"),
        *h.jsons("methods"),
        *h.dates("completed_on"),
        *h.flags("completed_late"),
        *h.dates("deadline"),
        *h.flags("deadline_provisional"),
        *h.strings(signature_status=16, signer_name=50, signer_title=100),
        *h.texts("refusal_note", "remarks"),
        h.actor("recorded_by"),
        h.ref("recorded_by_inspector_id", "inspectors.id", nullable=True),
        h.at("recorded_at"),
        h.at("updated_at"),
        *h.by_at("reviewed", pending=True),
        *h.texts("review_note"),
        *h.by_at("published", pending=True),
        *h.dates("published_on", nullable=True),
        *h.flags("published_on_time", nullable=True),
        unique=[("task_id", "version")],
        indexes=["completed_on", "deadline", "status", "task_id"],
    )

    h.create_table(
        "dispositions",
        *h.refs(result_id="inspection_results.id", task_id="tasks.id", target_id="targets.id"),
        h.department_code(fk=True),
        *h.strings(kind=32, decision_number=100, receiving_authority=200),
        *h.dates("decided_on"),
        *h.texts("description"),
        h.status(),
        h.ref("supersedes_id", "dispositions.id", nullable=True),
        *h.texts("correction_reason"),
        *h.dates("deadline"),
        *h.flags("deadline_provisional"),
        *h.by_at("recorded"),
        *h.by_at("published", pending=True),
        *h.dates("published_on", nullable=True),
        indexes=["department_code", "result_id", "status", "target_id", "task_id"],
    )

    h.create_table(
        "inspection_result_attachments",
        h.ref("result_id", "inspection_results.id", ondelete="CASCADE"),
        h.ref("attachment_id", "attachments.id"),
        key=["result_id", "attachment_id"],
    )


def downgrade() -> None:
    h.drop_tables("inspection_result_attachments", "dispositions", "inspection_results", "attachments", "risk_events")
