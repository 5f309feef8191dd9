"""CSV cells of the output files: quoting and spreadsheet-formula neutralisation (internal).

Every output CSV is written by joining cells made here, not by :mod:`csv` (which leaves a
lone ``\\r`` unquoted when the line terminator is ``\\n``, so that a reader splits the row).

Quoting: a cell is quoted when it holds ``,``, ``"``, ``\\r`` or ``\\n`` (a ``"`` doubled),
which :mod:`csv` reads back as the same text.

Neutralisation (OWASP, "CSV injection"): a cell that comes from input text and begins with
``=``, ``+``, ``-``, ``@``, a tab or a carriage return — which a spreadsheet would take for a
formula — is written with a leading apostrophe. So is one that begins with an apostrophe,
so that the original text is always recovered by removing one leading apostrophe from a
cell that begins with an apostrophe (:func:`restore`). Money, numbers, dates, codes and the
library's own words are never neutralised: they never begin with such a character, except
negative money, which must stay a number.

>>> text_cell("=HYPERLINK(1)"), text_cell("-5"), text_cell("T1"), text_cell("a,b")
("'=HYPERLINK(1)", "'-5", 'T1', '"a,b"')
>>> restore(text_cell("'quoted")), restore(text_cell("@x"))
("'quoted", '@x')
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Final

__all__ = ["LEADS", "csv_cell", "csv_line", "needs_care", "restore", "text_cell", "text_cells"]

#: First characters that make an input-text cell begin with an apostrophe.
LEADS: Final = frozenset("=+-@\t\r'")
_QUOTE: Final = re.compile('[,"\r\n]')
#: A cell (in a ``\\x00``-joined column, after a ``\\x00``) that needs neutralising.
_LEAD: Final = re.compile("\x00[=+\\-@\t']")
#: The characters of :data:`LEADS` not among those that need quoting.
_LEAD_CHARS: Final = ("=", "+", "-", "@", "\t", "'")


def csv_cell(text: str) -> str:
    """Return *text* as a CSV cell, quoted when it must be (no neutralisation).

    >>> csv_cell("T1"), csv_cell("CLIN 0001, P00003"), csv_cell('a"b'), csv_cell("I\\rX")
    ('T1', '"CLIN 0001, P00003"', '"a""b"', '"I\\rX"')
    """
    if _QUOTE.search(text) is None:
        return text
    return '"' + text.replace('"', '""') + '"'


def text_cell(text: str) -> str:
    """Return input *text* as a CSV cell: neutralised if a spreadsheet would run it, quoted."""
    if text[:1] in LEADS:
        text = "'" + text
    return csv_cell(text)


def needs_care(texts: Iterable[str]) -> bool:
    """Return whether any of *texts* needs quoting or neutralising as a cell."""
    # Substring tests, each a fast scan: a regular expression with an alternation tries a
    # match at every position, several times slower on a column of a thousand cells.
    joined = "\x00".join(texts)
    if "," in joined or '"' in joined or "\r" in joined or "\n" in joined:
        return True
    for lead in _LEAD_CHARS:
        if lead in joined:  # somewhere: is it the first character of a cell?
            return _LEAD.search("\x00" + joined) is not None
    return False


def text_cells(column: list[str]) -> list[str]:
    """Return a column of input texts as CSV cells; the column itself when none needs care."""
    if not needs_care(column):
        return column
    return [text_cell(t) for t in column]


def csv_line(cells: Sequence[str]) -> str:
    """Return one CSV line of ready-made *cells*, ending in ``\\n``."""
    return ",".join(cells) + "\n"


def restore(cell: str) -> str:
    """Return the input text a neutralised cell (as read back by :mod:`csv`) was made from."""
    return cell[1:] if cell[:1] == "'" else cell
