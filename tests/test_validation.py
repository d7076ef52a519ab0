import pytest

from drs_analytics import InvalidIDError
from drs_analytics.validation import check_id, id_problem

BAD_IDS = [
    ("", "is empty"),
    ("   ", "is only whitespace"),
    ("a/b", "contains '/'"),
    ("a?b", "contains '?'"),
    ("a#b", "contains '#'"),
    ("a%2Fb", "contains '%'"),
    ("..", "contains '..'"),
    ("a..b", "contains '..'"),
    ("job 1", "contains whitespace"),
    (" job1", "contains whitespace"),
    ("job\n1", "contains whitespace"),
    ("job\x001", "contains a control character"),
    ("job\x7f", "contains a control character"),
    ("jöb", "contains non-ASCII characters"),
    ("a" * 129, "is 129 characters long (at most 128)"),
    ("a;b", "contains ';'"),
    (5, "is a int, not a string"),
    (None, "is a NoneType, not a string"),
]


@pytest.mark.parametrize(("value", "problem"), BAD_IDS)
def test_bad_ids_are_refused_with_the_value_and_problem(value, problem):
    assert id_problem(value) == problem
    with pytest.raises(InvalidIDError) as info:
        check_id(value)
    assert problem in str(info.value)
    assert isinstance(info.value, ValueError)
    if isinstance(value, str) and len(value) < 20:
        assert repr(value) in str(info.value)


@pytest.mark.parametrize("value", ["163b98e8-6088-46c3-8b86-c18fea6jb502", "5237e10fe9aa4ad5b16b6a5245248314", "a.b_c~d"])
def test_good_ids_pass(value):
    assert check_id(value) == value
