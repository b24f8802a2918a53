"""The command line as a test runs it: on the test's database and instance folder."""
from __future__ import annotations

from click.testing import CliRunner, Result

from gateway.cli.main import cli
from gateway.config import Settings


def run_cli(settings: Settings, *args: str, catch_exceptions: bool = True) -> Result:
    """``shuangsui --database-url … --instance … ARGS``, with ``settings``' database and instance."""
    return CliRunner().invoke(cli, ["--database-url", settings.database_url, "--instance", str(settings.instance_path),
                                    *map(str, args)], catch_exceptions=catch_exceptions)
