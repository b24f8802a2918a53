"""Hypothesis strategies shared by the draw's property tests."""
from __future__ import annotations

from hypothesis import strategies as st

MATTERS = st.sampled_from(["SCJG-01", "NY-01", "YJ-01", "SW-01"])
UNIVERSE = [f"91410822MA{n:08d}" for n in range(80)]
SEEDS = st.text("0123456789-", min_size=1, max_size=24)


def stratum_specs(risk_classes: list[str]):
    """Up to six strata as (matter, risk class, ratio, population), one per (matter, risk class)."""
    return st.lists(
        st.tuples(
            MATTERS,
            st.sampled_from(risk_classes),
            st.decimals(min_value=0, max_value=1, places=2),
            st.lists(st.sampled_from(UNIVERSE), unique=True, max_size=40),
        ),
        min_size=1,
        max_size=6,
        unique_by=lambda spec: (spec[0], spec[1]),
    )
