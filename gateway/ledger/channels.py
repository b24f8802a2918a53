"""The ledger's channels (how an inspection came about), each code with its Chinese label, in one place.

- ``drawn``: a task of a draw (双随机抽查);
- ``higher_level``: an inspection by another authority, or by a county department outside the
  gateway, imported or pulled (:class:`gateway.higher_level.models.HigherLevelInspection`);
- the channels a department registers itself (:data:`REGISTERED_CHANNELS`): ``special`` 专项检查,
  ``complaint`` 投诉举报核查, ``referral`` 转办交办, ``routine`` 日常巡查, ``case`` 案件办理.

:data:`DEFAULT_EXEMPT` are the channels that, unless the county office's caps say otherwise, do not
count toward the yearly caps: 国办发〔2024〕54号 exempts inspections driven by complaints and reports,
by referrals from other bodies, and by the handling of a case (see ``docs/ledger.md``).
"""
from __future__ import annotations

from schemas.ledger import CHANNEL_LABELS, REGISTERED_CHANNEL_CODES

CHANNELS = CHANNEL_LABELS
"""Channel code -> Chinese label (declared with the wire shapes, :mod:`schemas.ledger`)."""

REGISTERED_CHANNELS = REGISTERED_CHANNEL_CODES
"""The channels a department registers by API, page or import (the others are written by the gateway)."""

DEFAULT_EXEMPT = frozenset({"complaint", "referral", "case"})
"""Channels that do not count toward the caps unless the published caps say otherwise."""

SOURCES = ("api", "page", "import")
"""How a registered inspection reached the gateway."""


def channel_label(code: str) -> str:
    """The Chinese label of a channel (the code itself for one the gateway does not know)."""
    return CHANNELS.get(code, code)
