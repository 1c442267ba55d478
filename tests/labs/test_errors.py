"""Input errors are one line whatever the user typed."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from labctl.labs.errors import InputError


def test_separators_and_controls_are_escaped():
    error = InputError("unknown field 'a\u2028b\u0085c\nd'", "lab.yaml:1:1")
    assert str(error) == "lab.yaml:1:1: unknown field 'a\\u2028b\\x85c\\nd'"


@given(st.text(), st.text())
def test_any_message_is_one_line(message, where):
    assert len(str(InputError(message, where or None)).splitlines()) <= 1
