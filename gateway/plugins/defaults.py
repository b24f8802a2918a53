"""The gateway's own hook implementations, registered as a plugin before any department's (as
pluggy's eggsample host registers its ``lib``). A department plugin implements a hook only where
it differs from these defaults."""
from __future__ import annotations

from functools import lru_cache

import marshmallow
import pluggy

from gateway.plugins.contributions import Matter
from gateway.plugins.hookspecs import hookimpl
from schemas.checklist import schema_from_items

NAME = "gateway.defaults"


class DefaultsPlugin:
    def __init__(self, pm: pluggy.PluginManager) -> None:
        self._pm = pm

    @hookimpl(trylast=True)
    def gateway_checklist_schema(self, matter_code: str) -> type[marshmallow.Schema] | None:
        """The lead department's items, each with the field derived from it."""
        for contributed in self._pm.hook.gateway_matters():
            for matter in contributed or ():
                if isinstance(matter, Matter) and matter.code == matter_code:
                    return _lead_schema(matter)
        return None


@lru_cache(maxsize=128)
def _lead_schema(matter: Matter) -> type[marshmallow.Schema]:
    return schema_from_items(matter.check_items, name=f"Checklist_{matter.code}_lead")
