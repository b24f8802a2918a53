"""Nobody steers a draw: the participants' identity digests, witnesses with their category, and the
reassignment's requester and nonce

Article 16: organiser, technical operator and supervisor are distinct persons, told apart by an
identity kept only as a keyed digest (never published); every witness is of a listed category.
Article 14: the requester of a reassignment never decides it, and the replacement's seed includes a
nonce committed to at the request and revealed at the approval.
"""
from gateway.migrations import helpers as h

revision = "0015_draw_fairness"
down_revision = "0014_sign_in_throttle"


def upgrade() -> None:
    h.add_columns("draws", *h.jsons("identity_digests", "witnesses", nullable=True))
    h.add_columns("reassignments", *h.strings(requested_by_key=200, server_default=""),
                  *h.strings(nullable=True, nonce=64, nonce_commitment=64))


def downgrade() -> None:
    h.drop_columns("reassignments", "nonce_commitment", "nonce", "requested_by_key")
    h.drop_columns("draws", "witnesses", "identity_digests")
