"""docs/security.md shows the permission table as it is."""
from __future__ import annotations

from pathlib import Path

from gateway.security.docs import ACTION_LABELS, replace_table
from gateway.security.policy import PERMISSIONS

DOC = Path(__file__).resolve().parents[2] / "docs" / "security.md"


def test_roles_table_matches_permissions():
    text = DOC.read_text(encoding="utf-8")
    assert text == replace_table(text), "run `python -m gateway.security.docs --write` and commit docs/security.md"


def test_every_action_is_explained():
    assert not set(PERMISSIONS) - set(ACTION_LABELS), "add a description to gateway/security/docs.py"
