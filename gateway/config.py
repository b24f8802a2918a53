"""Settings: defaults, then an instance config file (TOML), then ``SHUANGSUI_*`` environment variables."""
from __future__ import annotations

import os
import secrets
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Mapping

ENV_PREFIX = "SHUANGSUI_"
CONFIG_FILE_NAME = "shuangsui.toml"


def default_instance_path() -> Path:
    return Path(os.environ.get(ENV_PREFIX + "INSTANCE_PATH", Path.cwd() / "instance")).resolve()


@dataclass(frozen=True)
class Settings:
    """Everything configurable. Field names map to ``SHUANGSUI_<NAME>`` and to keys in
    ``<instance>/shuangsui.toml``."""

    instance_path: Path = field(default_factory=default_instance_path)
    database_url: str = ""
    # Entry-point names of the plugins to load; None loads every installed plugin.
    plugins: tuple[str, ...] | None = None
    secret_key: str = ""
    county_name: str = "武陟县"
    area_code: str = "410823"
    platform_url: str = ""
    platform_access_key: str = ""
    platform_secret: str = ""
    sync_batch_size: int = 100
    sync_connect_timeout: float = 3.0
    sync_read_timeout: float = 10.0
    sync_lease_seconds: int = 60
    # Retries (docs/sync.md): full-jitter exponential backoff from sync_backoff_base seconds up to
    # sync_backoff_max; a platform's Retry-After is waited out, but never longer than sync_retry_after_max.
    sync_backoff_base: float = 2.0
    sync_backoff_max: float = 600.0
    sync_retry_after_max: float = 300.0
    # How long an idle worker sleeps before looking for due records again.
    sync_poll_seconds: float = 2.0
    # Bytes per pushed batch (the platform refuses bodies above 2,000,000 bytes).
    sync_max_body_bytes: int = 1_900_000
    # Alert when the oldest undelivered record is this many working days (or fewer) from its deadline.
    sync_alert_working_days: int = 3
    # Parallel public reads when pulling other authorities' inspections for a plan's targets.
    sync_pull_concurrency: int = 4
    # The gateway's public address (e.g. https://sssgk.wuzhi.gov.cn); when set, draw results sent
    # to the platform carry the address of their public draw record.
    public_base_url: str = ""
    max_upload_bytes: int = 50 * 1024 * 1024
    holidays_file: str = ""
    # The enterprise's side (docs/enterprise.md): working days after an inspection's completion in
    # which the enterprise may file a statement (陈述申辩) on the draft result; days an access code lives.
    statement_working_days: int = 5
    access_code_days: int = 90
    # The county's Ed25519 signing keys for inspection codes (docs/enterprise.md): a folder of
    # private keys (mode 600) and the public key set; "" means <instance>/signing-keys.
    signing_keys_path: str = ""
    # Security (docs/security.md): session cookies, the sign-in throttle, in-process rate limits.
    session_cookie_secure: bool = False
    session_hours: int = 12
    # A page session unused this long ends (0: only session_hours applies).
    session_idle_minutes: int = 30
    # Sign-in throttle: this many failures for one username from one client address within this many
    # minutes make that address wait (no account is ever locked); 0 switches it off.
    login_max_failures: int = 5
    login_lockout_minutes: int = 15
    # "<requests>/<seconds>" per client address; "" or "0/1" switches a limit off.
    rate_limit_sign_in: str = "10/60"
    rate_limit_public: str = "300/60"
    # How a draw's bulk insert of tasks and team members has PostgreSQL check their foreign keys:
    # "auto" as one set where the database role may set session_replication_role, else row by
    # row; "row" always row by row (docs/deploy.md).
    draw_key_checks: str = "auto"
    # A plan must be filed (备案) with the county justice bureau before its draw is frozen (2025 rules:
    # 凡检查必审批; docs/ledger.md). Off only where the county files plans outside the gateway.
    draw_requires_filing: bool = True
    # Repeat-visit warning (docs/ledger.md): a department registering or planning a visit is warned of
    # another department's inspection of the same target within this many days before or after it.
    repeat_visit_days: int = 30
    # The office's dashboard flags an enterprise inspected this many times this year (every channel,
    # exempt ones too) as high-frequency.
    high_frequency_inspections: int = 6

    def __post_init__(self) -> None:
        if self.draw_key_checks not in ("auto", "row"):
            raise ValueError(f"配置项 draw_key_checks 只能是 auto 或 row，而不是 {self.draw_key_checks!r}")
        if not self.database_url:
            url = "sqlite:///" + str(Path(self.instance_path) / "shuangsui.sqlite")
            object.__setattr__(self, "database_url", url)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @classmethod
    def load(
        cls,
        environ: Mapping[str, str] | None = None,
        instance_path: Path | None = None,
        **overrides,
    ) -> "Settings":
        environ = os.environ if environ is None else environ
        if instance_path is None:
            instance_path = Path(environ.get(ENV_PREFIX + "INSTANCE_PATH") or default_instance_path())
        values: dict[str, object] = {}
        config_file = Path(instance_path) / CONFIG_FILE_NAME
        if config_file.exists():
            with config_file.open("rb") as fh:
                values.update(tomllib.load(fh))
        for f in fields(cls):
            key = ENV_PREFIX + f.name.upper()
            if key in environ:
                values[f.name] = environ[key]
        values.update(overrides)
        values["instance_path"] = Path(instance_path)
        known = {f.name: f for f in fields(cls)}
        unknown = set(values) - set(known)
        if unknown:
            raise ValueError(f"配置文件 {config_file} 含未知配置项：{', '.join(sorted(unknown))}")
        converted = {name: _convert(name, known[name].type, value) for name, value in values.items()}
        settings = cls(**converted)
        if not settings.secret_key:
            settings = replace(settings, secret_key=_instance_secret(Path(instance_path)))
        return settings


def _convert(name: str, type_name: object, value: object) -> object:
    type_text = str(type_name)
    if name == "plugins":
        if value is None or isinstance(value, (list, tuple)):
            return tuple(value) if value is not None else None
        text = str(value).strip()
        return tuple(p.strip() for p in text.split(",") if p.strip()) if text else None
    if type_text == "bool":
        return value if isinstance(value, bool) else str(value).strip().lower() in ("1", "true", "yes", "on")
    if type_text == "int":
        return int(value)
    if type_text == "float":
        return float(value)
    if type_text == "Path":
        return Path(value)
    return value


def _instance_secret(instance_path: Path) -> str:
    """A per-instance secret kept in the instance folder, so sessions survive restarts."""
    path = instance_path / "secret_key"
    if path.exists():
        return path.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    path.write_text(key)
    path.chmod(0o600)
    return key
