"""The draw algorithm is pure: importing it pulls in no web framework and no database layer."""

from __future__ import annotations

import subprocess
import sys

PURE_MODULES = ["sampler", "strata", "teams", "record", "verify"]


def test_draw_modules_import_no_flask_and_no_database():
    imports = "; ".join(f"import gateway.draw.{name}" for name in PURE_MODULES)
    probe = f"import sys; {imports}; print(sorted(m for m in sys.modules if m.split('.')[0] in {{'flask', 'sqlalchemy', 'psycopg', 'sqlite3', 'alembic'}}))"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
