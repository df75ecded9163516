"""Hypothesis profiles and shared strategies for the property-based tests (``tests/test_properties_*.py``).

Two profiles, chosen by ``HYPOTHESIS_PROFILE``:

* ``fast`` (the default): a hundred cases per property (fewer for slow ones), so ``make test`` stays quick;
* ``thorough``: ten times as many, for ``make fuzz``, which prints how many cases ran.

Examples that once failed are kept in ``build/hypothesis`` and tried first on the next run.
Deadlines are off: the machine is shared, and a slow case is not a wrong one.
"""

from __future__ import annotations

import os
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.database import DirectoryBasedExampleDatabase

from tests.conftest import ROOT

__all__ = ["THOROUGH", "json_values", "messy_text", "scaled"]

_DATABASE = DirectoryBasedExampleDatabase(ROOT / "build" / "hypothesis")
settings.register_profile("fast", max_examples=100, deadline=None, database=_DATABASE,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("thorough", max_examples=1000, deadline=None, database=_DATABASE,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "fast"))

#: Whether this run is the thorough one (``make fuzz``).
THOROUGH = os.environ.get("HYPOTHESIS_PROFILE") == "thorough"


def scaled(share: float) -> settings:
    """Settings for a property whose cases are slow: ``share`` of the profile's number of cases (at least 10)."""
    return settings(max_examples=max(10, round(settings.default.max_examples * share)))


#: Text as customers and exports write it: any character, with more of the ones parsers look for.
messy_text = st.text(
    alphabet=st.one_of(
        st.characters(codec="utf-8"),
        st.sampled_from(list("0123456789$₹£€¥,.-–+~%\"'×#|;:/\\ \t\n\r\u00a0\u2028{}[]()<>_")),
    ),
    max_size=80,
)

#: Any JSON value, nested a few levels (what a payload or a catalog file may hold).
json_values: st.SearchStrategy[Any] = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True, allow_infinity=True) | messy_text,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(messy_text, children, max_size=4),
    max_leaves=12,
)
