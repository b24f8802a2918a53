"""What every command shares: settings and a lazily built gateway object."""
from __future__ import annotations

import getpass
import json
from dataclasses import dataclass, field
from pathlib import Path

import click

from gateway.config import Settings
from gateway.core import Gateway
from gateway.plugins.manager import PluginError
from gateway.security.principal import Principal


@dataclass
class CliContext:
    database_url: str | None = None
    instance_path: str | None = None
    _gateway: Gateway | None = field(default=None, repr=False)

    def settings(self) -> Settings:
        overrides = {"database_url": self.database_url} if self.database_url else {}
        instance = Path(self.instance_path) if self.instance_path else None
        try:
            return Settings.load(instance_path=instance, **overrides)
        except ValueError as exc:
            raise click.ClickException(str(exc)) from None

    def gateway(self) -> Gateway:
        if self._gateway is None:
            try:
                gateway = Gateway.create(self.settings())
                gateway.sync_registry_at_start()
                self._gateway = gateway
            except PluginError as exc:
                raise click.ClickException(f"插件加载失败：{exc}") from None
        return self._gateway


pass_context = click.make_pass_decorator(CliContext)


def operator_principal(by: str | None = None) -> Principal:
    """Who acts in a command run on the server: the county office, named by ``--by`` or the OS user.

    Only someone with shell access to the gateway can run commands, so they act as the office.
    """
    return Principal(role="county_office", name=by or getpass.getuser())


# ``--json``: a command prints its data as JSON instead of lines for people.
json_option = click.option("--json", "as_json", is_flag=True, help="以 JSON 输出。")


def to_json(data) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2, default=str)


def echo_list(items: list, as_json: bool, show, empty: str | None = None) -> None:
    """A list command's output: ``items`` as JSON, or ``show(item)`` for each (``empty`` when there are none)."""
    if as_json:
        click.echo(to_json(items))
        return
    if not items and empty:
        click.echo(empty)
    for item in items:
        show(item)
