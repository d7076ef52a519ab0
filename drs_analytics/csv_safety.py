"""CSV formula injection: make text cells inert for spreadsheets, and undo it on reading.

A spreadsheet opening a CSV runs a cell that starts with ``=``, ``+``, ``-`` or ``@``
as a formula (and some also after a leading tab or carriage return). Job IDs, action
names (they become ``matrix.csv`` headers), job names and error messages come from the
API or the user, so the reports neutralise them (OWASP's advice): a text cell that
would start a formula gets a single quote ``'`` in front, which spreadsheets show as
text.

Rules
-----
* Neutralised: text only. Strings in object, ``str``/``string`` and categorical
  columns, the index values (when written), column names and index names.
* Untouched: numbers, booleans and timestamps (their dtypes), and text that is a
  plain decimal number, such as ``-5``, ``+3.2`` or ``-1.5e-3`` (``[+-]digits[.digits]
  [e[+-]digits]``, ASCII digits only): a spreadsheet reads those as numbers, not
  formulas, so real numbers stay numbers. ``-inf``, ``-0x1F`` or ``-5 `` are not
  plain numbers and are neutralised.
* A cell is prefixed when, after any leading quotes, it starts with one of
  :data:`TRIGGERS`: ``=x`` is written ``'=x``, and ``'=x`` (a value that itself
  starts with a quote) is written ``''=x``. :func:`restore` strips one quote from a
  cell that starts with quotes followed by a trigger, so reading back is exact for
  every value: ``'abc`` and ``'-5`` stay as they are in both directions.

The functions are pure: frames are copied, never changed in place.

>>> neutralise("=HYPERLINK(\\"http://x\\")"), neutralise("-5"), neutralise("PAUSE")
('\\'=HYPERLINK("http://x")', '-5', 'PAUSE')
>>> restore(neutralise("'=1+1")) == "'=1+1"
True
"""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

__all__ = ["TRIGGERS", "is_plain_number", "needs_quote", "neutralise", "neutralise_frame", "restore", "restore_frame"]

#: Characters that make a spreadsheet read a cell as a formula (OWASP CSV injection).
TRIGGERS: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r")

_TRIGGER_CLASS = "[=+\\-@\\t\\r]"
_NUMBER = r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
# Where a quote goes: at the start of a cell that is not a plain number and, after any
# leading quotes, starts with a trigger. ``\Z``, not ``$``: "-5\n" is not a number.
_NEUTRALISE = re.compile(rf"^(?!{_NUMBER}\Z)(?='*{_TRIGGER_CLASS})", re.DOTALL)
# The quote that was added: the first of one or more quotes followed by a trigger.
_RESTORE = re.compile(rf"^'(?='*{_TRIGGER_CLASS})", re.DOTALL)
_PLAIN_NUMBER = re.compile(rf"{_NUMBER}\Z")
_FIRST_CHARS = ("'", *TRIGGERS)  # every cell either regex can change starts with one of these


def is_plain_number(text: str) -> bool:
    """Whether ``text`` is a plain decimal number (kept as is, even with a sign).

    >>> [is_plain_number(t) for t in ("-5", "+3.2", ".5", "-1e-3", "-inf", "1,5", "-5 ")]
    [True, True, True, True, False, False, False]
    """
    return _PLAIN_NUMBER.match(text) is not None


def needs_quote(text: str) -> bool:
    """Whether :func:`neutralise` would prefix ``text``."""
    return _NEUTRALISE.match(text) is not None


def neutralise(value: Any) -> Any:
    """``value`` made inert for a spreadsheet: a string prefixed with ``'`` when needed.

    Anything that is not a ``str`` is returned as is.
    """
    if isinstance(value, str) and _NEUTRALISE.match(value):
        return "'" + value
    return value


def restore(value: Any) -> Any:
    """Undo :func:`neutralise`: strip the quote it added (anything else is returned as is)."""
    if isinstance(value, str) and _RESTORE.match(value):
        return value[1:]
    return value


def _is_text(dtype: Any) -> bool:
    return dtype == object or isinstance(dtype, pd.StringDtype)


def _convert_values(values: pd.Series, regex: re.Pattern[str], replacement: str) -> pd.Series:
    """Apply ``regex`` -> ``replacement`` at the start of the string cells of a Series."""
    dtype = values.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        categories = dtype.categories
        if not _is_text(categories.dtype):
            return values
        converted = [regex.sub(replacement, c, count=1) if isinstance(c, str) else c for c in categories]
        if converted == list(categories):
            return values
        return values.cat.rename_categories(pd.Index(converted, dtype=categories.dtype))
    if isinstance(dtype, pd.StringDtype):
        # candidates by a plain prefix test (no lookahead regex: pyarrow strings use RE2), then re
        mask = values.str.startswith(_FIRST_CHARS, na=False).to_numpy(dtype=bool)
        if not mask.any():
            return values
        out = values.copy()
        out[mask] = [regex.sub(replacement, v, count=1) for v in values[mask].tolist()]
        return out
    if dtype == object:
        cells = values.tolist()
        converted = [regex.sub(replacement, v, count=1) if isinstance(v, str) else v for v in cells]
        if converted == cells:
            return values
        return pd.Series(converted, index=values.index, name=values.name, dtype=object)
    return values  # numbers, booleans, timestamps


def _convert_labels(labels: pd.Index, regex: re.Pattern[str], replacement: str) -> pd.Index:
    """The same for index values (categorical, text or a MultiIndex's levels)."""
    if isinstance(labels, pd.MultiIndex):
        levels = [_convert_labels(level, regex, replacement) for level in labels.levels]
        return labels.set_levels(levels)
    if isinstance(labels, pd.CategoricalIndex) or _is_text(labels.dtype):
        converted = _convert_values(pd.Series(labels, copy=False), regex, replacement)
        return pd.Index(converted, name=labels.name, dtype=converted.dtype)
    return labels


def _convert_names(names: list, regex: re.Pattern[str], replacement: str) -> list:
    return [regex.sub(replacement, n, count=1) if isinstance(n, str) else n for n in names]


def _convert_frame(frame: pd.DataFrame, index: bool, regex: re.Pattern[str], replacement: str) -> pd.DataFrame:
    out = frame.copy()
    for position in range(out.shape[1]):
        column = out.iloc[:, position]
        converted = _convert_values(column, regex, replacement)
        if converted is not column:
            out.isetitem(position, converted)
    if index:
        out.index = _convert_labels(out.index, regex, replacement)
    out.index = out.index.set_names(_convert_names(list(out.index.names), regex, replacement))
    columns = out.columns
    if isinstance(columns, pd.MultiIndex):
        out.columns = _convert_labels(columns, regex, replacement)
    else:
        out.columns = pd.Index(_convert_names(list(columns), regex, replacement), name=columns.name,
                               dtype=columns.dtype if _is_text(columns.dtype) else None)
    return out


def neutralise_frame(frame: pd.DataFrame, *, index: bool = False) -> pd.DataFrame:
    """A copy of ``frame`` with every text cell and header neutralised.

    Parameters
    ----------
    frame : DataFrame
        Any frame; numbers, booleans and timestamps are left as they are.
    index : bool
        Also neutralise the index values (when the index is written as a column).
        Index names are always neutralised (a written index's name is a header).
    """
    return _convert_frame(frame, index, _NEUTRALISE, "'")


def restore_frame(frame: pd.DataFrame, *, index: bool = True) -> pd.DataFrame:
    """A copy of ``frame`` (read from a neutralised CSV) with the added quotes removed.

    Use it after ``pd.read_csv`` on ``matrix.csv``, ``summary.csv`` or any CSV written by
    :func:`~drs_analytics.report.write_csv` (``read_actions`` and ``read_errors`` do it
    themselves).
    """
    return _convert_frame(frame, index, _RESTORE, "")
