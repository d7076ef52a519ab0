"""IDs that are path segments ('.', '..'): refused with a message that is true of them."""

from __future__ import annotations

import pytest

from drs_analytics import InvalidIDError, fetch_actions
from drs_analytics.validation import check_id, id_problem


def test_a_lone_dot_is_named_as_what_it_is():
    assert id_problem(".") == "is '.', a relative path segment (the current folder)"
    with pytest.raises(InvalidIDError) as info:
        check_id(".")
    assert str(info.value) == "invalid job ID '.': is '.', a relative path segment (the current folder)"
    assert "'..'" not in str(info.value)  # '.' does not contain '..'


@pytest.mark.parametrize("value", ["..", "...", "a..b", "..a", "a.."])
def test_ids_holding_two_dots_say_so(value):
    assert ".." in value  # the message's claim, checked on the input itself
    assert id_problem(value) == "contains '..'"


@pytest.mark.parametrize("value", [".a", "a.", "a.b", "._~-"])
def test_single_dots_inside_an_id_are_fine(value):
    assert id_problem(value) is None


def test_a_fetch_records_the_dot_without_a_request(emu, client):
    before = emu.app.request_count
    result = fetch_actions([".", emu.job_ids[0]], client=client, progress=False)
    assert emu.app.request_count - before == 1
    error = result.errors.set_index("job_id").loc["."]
    assert error["error_type"] == "InvalidIDError"
    assert "is '.', a relative path segment" in error["detail"]
