"""The draw's own domain error, for callers that must tell it from other conflicts."""
from __future__ import annotations

from gateway.errors import Conflict


class UnstaffedDraw(Conflict):
    """A drawn target cannot be given a team: the whole draw is refused, and the attempt is audited."""

    code = "no_feasible_team"
