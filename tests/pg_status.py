"""Say plainly, before the suite runs, whether its PostgreSQL leg will run."""
import sys

from tests.conftest import PG_ADMIN_URL, PG_SKIP_MESSAGE, _pg_available

if __name__ == "__main__":
    if _pg_available():
        print(f"PostgreSQL leg: running against {PG_ADMIN_URL}")
    else:
        print("*" * 72 + "\n" + PG_SKIP_MESSAGE.format(url=PG_ADMIN_URL) + "\n" + "*" * 72)
        sys.exit(1)
