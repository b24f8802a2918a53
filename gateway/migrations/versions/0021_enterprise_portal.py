"""The inspected enterprise's side (issue 17): access codes, portal sessions, notices, statements,
recusal requests, ratings and rectification evidence
"""
from gateway.migrations import helpers as h

revision = "0021_enterprise_portal"
down_revision = "0019_eligibility_changes"


def upgrade() -> None:
    h.create_table(
        "enterprise_access_codes",
        h.ref("task_id", "tasks.id"),
        h.uscc(),
        *h.strings(locator=8, code_hash=64),
        *h.at_by("issued"),
        h.at("expires_at"),
        h.at("used_at", nullable=True),
        h.at("checked_in_at", nullable=True),
        *h.integers("failures"),
        h.at("locked_at", nullable=True),
        h.at("superseded_at", nullable=True),
        h.ref("rotated_from_id", "enterprise_access_codes.id", nullable=True),
        unique=["code_hash"],
        indexes=["task_id", "uscc"],
    )
    h.create_table(
        "enterprise_sessions",
        *h.strings(session_sha256=64),
        h.uscc(),
        h.ref("access_code_id", "enterprise_access_codes.id"),
        *h.strings(csrf_token=64),
        h.at("created_at"),
        h.at("expires_at"),
        h.at("revoked_at", nullable=True),
        unique=["session_sha256"],
        indexes=["uscc"],
    )
    h.create_table(
        "inspection_notices",
        h.ref("task_id", "tasks.id"),
        *h.at_by("generated"),
        *h.strings(contact=200),
        h.ref("access_code_id", "enterprise_access_codes.id", nullable=True),
        *h.strings(nullable=True, delivery_method=16),
        *h.at_by("delivered", nullable=True),
        *h.texts("delivery_note"),
        unique=["task_id"],
    )
    h.create_table(
        "enterprise_statements",
        *h.refs(task_id="tasks.id", result_id="inspection_results.id"),
        h.uscc(),
        *h.texts("text"),
        *h.jsons("attachment_ids"),
        h.at("filed_at"),
        *h.texts("answer", nullable=True),
        *h.by_at("answered", nullable=True),
        indexes=["result_id", "task_id"],
    )
    h.create_table(
        "enterprise_recusal_requests",
        *h.refs(task_id="tasks.id", member_id="task_members.id"),
        *h.texts("reason"),
        h.at("requested_at"),
        h.ref("reassignment_id", "reassignments.id", nullable=True),
        indexes=["task_id"],
    )
    h.create_table(
        "inspection_ratings",
        h.ref("task_id", "tasks.id"),
        h.department_code(),
        *h.integers("score"),
        *h.texts("comment"),
        h.at("rated_at"),
        unique=["task_id"],
        indexes=["department_code"],
    )
    h.create_table(
        "enterprise_rectification_evidence",
        *h.refs(task_id="tasks.id", attachment_id="attachments.id"),
        *h.texts("note"),
        h.at("uploaded_at"),
        indexes=["task_id"],
    )


def downgrade() -> None:
    h.drop_tables("enterprise_rectification_evidence", "inspection_ratings", "enterprise_recusal_requests",
                  "enterprise_statements", "inspection_notices", "enterprise_sessions", "enterprise_access_codes")
