"""The gateway as an object: settings, database and plugins, usable with or without Flask."""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterable, Iterator

import pluggy
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from gateway.config import Settings
from gateway.db import committing, make_engine, make_sessionmaker
from gateway.directory.matters import sync_registry
from gateway.ledger import counts as _ledger_counts  # noqa: F401  (its flush hook keeps the ledger's counts)
from gateway.migrate import is_at_head
from gateway.plugins.manager import Registry, build_plugin_manager, load_registry


@dataclass
class Gateway:
    settings: Settings
    engine: Engine
    plugin_manager: pluggy.PluginManager
    registry: Registry
    sessions: sessionmaker[Session]
    writer_sessions: sessionmaker[Session]

    @classmethod
    def create(
        cls,
        settings: Settings | None = None,
        extra_plugins: Iterable[tuple[str, object]] = (),
        load_entry_points: bool = True,
    ) -> "Gateway":
        settings = settings or Settings.load()
        pm = build_plugin_manager(
            allow=settings.plugins, extra_plugins=extra_plugins, load_entry_points=load_entry_points
        )
        registry = load_registry(pm)
        engine = make_engine(settings.database_url)
        return cls(
            settings=settings,
            engine=engine,
            plugin_manager=pm,
            registry=registry,
            sessions=make_sessionmaker(engine),
            writer_sessions=make_sessionmaker(engine, writer=True),
        )

    @property
    def hook(self):
        return self.plugin_manager.hook

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A write transaction: committed at the end, rolled back on any error."""
        with committing(self.writer_sessions()) as session:
            yield session

    @contextmanager
    def read(self) -> Iterator[Session]:
        session = self.sessions()
        try:
            yield session
        finally:
            session.rollback()
            session.close()

    def sync_registry(self) -> None:

        with self.write() as session:
            sync_registry(session, self.registry)

    def sync_registry_at_start(self) -> None:
        """Bring the stored departments and matter versions in line with the plugins as they are
        now (an upgraded, added or disabled plugin), so that a new plan pins what ``GET /matters``
        shows. A database not yet migrated is left to ``shuangsui db upgrade``. Raises PluginError
        when a plugin changed a matter without raising its version."""


        if not is_at_head(self.engine):
            return
        try:
            self.sync_registry()
        except IntegrityError:
            self.sync_registry()  # another process, started at the same moment, recorded the change first

    def dispose(self) -> None:
        self.engine.dispose()
