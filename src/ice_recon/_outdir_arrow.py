"""Read ``results.csv`` of an output folder with pyarrow's CSV reader (the ``fast`` extra).

Imported only by :func:`ice_recon._outdir._scan_results`, and only when pyarrow can be
imported. The file is read as a stream of batches of text cells (never a float, never a
type guessed); the lines with nothing to show are dropped column-wise; the money cells of
the others are checked to have exactly two places and turned into integer cents
column-wise; the sums by status, the decomposition per contract and the candidates for
the top lines are found per chunk of kept rows, column-wise too (an explanation Arrow's
regular expressions cannot read as Python's would goes to ``_outdir.decomposition``).
The figures are those of the csv path: whenever pyarrow reads the file otherwise than the
csv module would, or a cell is not as written by a run (the csv path then says which),
:func:`scan_arrow` returns ``None`` and the Python paths read the file from the start.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import pyarrow as pa
import pyarrow.compute as pc
from pyarrow import csv as pa_csv

from ice_recon._outdir import _PRICED_VALUES, _RESULT_HEADER, _ZERO, PARTS

if TYPE_CHECKING:
    from ice_recon._outdir import _Scan

__all__ = ["scan_arrow"]

#: A money cell as a run writes it (ASCII digits; anything else goes to the csv path).
_MONEY: Final = r"^-?[0-9]+\.[0-9][0-9]$"

#: Above this many cents in one cell, the csv path adds up (int64 sums cannot overflow).
_LIMIT: Final = 10**12

#: Small blocks keep the memory low and are read as fast as large ones.
_BLOCK: Final = 1 << 20

#: The rows with an amount added up at once: few calls into Arrow, a bounded memory.
_CHUNK: Final = 1 << 16


def scan_arrow(folder: Path, scan: _Scan) -> _Scan | None:
    """Fill *scan* from ``folder/results.csv``; ``None`` to let the csv path read it."""
    path = folder / "results.csv"
    try:
        with path.open(encoding="utf-8", newline="") as f:
            header = next(csv.reader(f), None)
    except (OSError, UnicodeDecodeError, csv.Error):
        return None
    if header is None or tuple(header[: len(_RESULT_HEADER)]) != _RESULT_HEADER:
        return None  # the csv path says so
    if len(set(header)) != len(header):
        return None
    try:
        reader = pa_csv.open_csv(
            path,
            read_options=pa_csv.ReadOptions(block_size=_BLOCK),
            parse_options=pa_csv.ParseOptions(newlines_in_values=True),
            convert_options=pa_csv.ConvertOptions(
                column_types={name: pa.string() for name in header},
                include_columns=list(_RESULT_HEADER),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
        # Keep the rows with an amount to show (about one in four), with their numbers,
        # and add them up by chunks of about _CHUNK rows (the memory stays bounded).
        offset = 0
        batches: list[Any] = []
        numbers: list[Any] = []
        count = 0
        for batch in reader:
            rows = pc.indices_nonzero(_shown(batch))
            if len(rows):
                batches.append(batch.take(rows))
                numbers.append(pc.add(pc.cast(rows, pa.int64()), offset))
                count += len(rows)
            offset += batch.num_rows
            if count >= _CHUNK:
                if not _add(scan, _concat(batches), pa.concat_arrays(numbers)):
                    return None
                batches, numbers, count = [], [], 0
        if batches and not _add(scan, _concat(batches), pa.concat_arrays(numbers)):
            return None
    except (pa.ArrowException, OSError):
        return None
    return scan


def _concat(batches: list[Any]) -> Any:
    """One record batch of *batches*."""
    return pa.Table.from_batches(batches).combine_chunks().to_batches()[0]


def _shown(batch: Any) -> Any:
    """The mask of the rows with an amount to show that are not INVALID."""
    variance, erroneous, unsupported, underbilled = (
        batch.column(name) for name in ("variance", "erroneous", "unsupported", "underbilled")
    )
    zero = pc.and_(
        pc.and_(pc.equal(variance, _ZERO), pc.equal(erroneous, _ZERO)),
        pc.and_(pc.equal(unsupported, _ZERO), pc.equal(underbilled, _ZERO)),
    )
    return pc.and_(pc.invert(zero), pc.not_equal(batch.column("billed"), ""))


def _add(scan: _Scan, kept: Any, rows: Any) -> bool:
    """Add the rows *kept* (numbered *rows*) to *scan*; ``False`` to let the csv path read."""
    cents = {}
    for name in ("variance", "erroneous", "unsupported", "underbilled"):
        column = kept.column(name)
        if not pc.all(pc.match_substring_regex(column, _MONEY)).as_py():
            return False  # the csv path names the cell
        value = pc.cast(pc.replace_substring(column, ".", "", max_replacements=1), pa.int64())
        if pc.max(pc.abs(value)).as_py() >= _LIMIT:
            return False
        cents[name] = value
    q = pc.add(cents["erroneous"], cents["unsupported"])
    status = kept.column("status")

    sums = pa.table({"status": status, "q": q, "u": cents["underbilled"]})
    grouped = sums.group_by("status").aggregate([("q", "sum"), ("u", "sum")])
    for s, dq, du in zip(
        grouped.column("status").to_pylist(),
        grouped.column("q_sum").to_pylist(),
        grouped.column("u_sum").to_pylist(),
        strict=True,
    ):
        entry = scan.by_status.get(s)
        if entry is None:
            entry = scan.by_status[s] = [0, 0]
        entry[0] += dq
        entry[1] += du

    varied = pc.indices_nonzero(pc.not_equal(cents["variance"], 0))
    if len(varied):
        _decompose(
            scan,
            pc.take(kept.column("contract_id"), varied),
            pc.take(status, varied),
            pc.take(kept.column("explanation"), varied),
            pc.take(cents["variance"], varied),
        )

    questioned = pc.indices_nonzero(pc.greater(q, 0))
    count = len(questioned)
    if count:
        scan.questioned_lines += count
        numbers = pc.take(rows, questioned)
        candidates = pa.table({"q": pc.take(q, questioned), "n": numbers, "i": questioned})
        order = [("q", "descending"), ("n", "ascending")]
        best = pc.select_k_unstable(candidates, k=min(scan.limit, count), sort_keys=order)
        chosen = candidates.take(best)
        top = kept.take(chosen.column("i").combine_chunks())
        cells = [top.column(name).to_pylist() for name in _RESULT_HEADER]
        for k, (qk, nk) in enumerate(
            zip(chosen.column("q").to_pylist(), chosen.column("n").to_pylist(), strict=True)
        ):
            scan.offer(qk, nk, [column[k] for column in cells])
    return True


#: The first statement of difference in an explanation (as ``_outdir._DECOMPOSITION``).
_STATEMENT: Final = (
    r"; (?P<direction>over|under) by (?P<by>[0-9]+\.[0-9][0-9]) \((?P<listed>(?:(?:extension"
    r"|price|quantity|minimum) [+-]?[0-9]+\.[0-9][0-9])(?:, (?:extension|price|quantity"
    r"|minimum) [+-]?[0-9]+\.[0-9][0-9])*)\)"
)


def _cents(text: Any) -> Any:
    """Integer cents of money texts with exactly two places (checked by the pattern)."""
    return pc.cast(pc.replace_substring(text, ".", "", max_replacements=1), pa.int64())


def _decompose(scan: _Scan, contract: Any, status: Any, explanation: Any, variance: Any) -> None:
    """Add the variance of lines to their contracts' decomposition, column-wise.

    The first statement of difference of each explanation is read with Arrow's regular
    expressions; a line whose first statement does not add up to its variance, whose
    explanation is not ASCII (Python's ``\\d`` is wider than RE2's) or whose parts are
    large is decomposed by :func:`ice_recon._outdir.decomposition` itself, so the result
    is always that of the csv path.
    """
    found = pc.extract_regex(explanation, _STATEMENT)
    matched = pc.fill_null(pc.is_valid(found), False)
    ascii_ = pc.string_is_ascii(explanation)
    by = _cents(pc.fill_null(pc.struct_field(found, "by"), "0.00"))
    signed = pc.if_else(
        pc.equal(pc.fill_null(pc.struct_field(found, "direction"), "over"), "over"),
        by,
        pc.negate(by),
    )
    listed = pc.fill_null(pc.struct_field(found, "listed"), "")
    sums: dict[str, Any] = {}
    once = pa.scalar(True)
    for name in PARTS:
        # Each part is named at most once in a statement a run writes; a statement that
        # names one twice is left to the csv path's decomposition.
        once = pc.and_(once, pc.less_equal(pc.count_substring(listed, name + " "), 1))
        part = pc.struct_field(
            pc.extract_regex(listed, rf"(?:^|, ){name} \+?(?P<v>-?[0-9]+\.[0-9][0-9])"), "v"
        )
        sums[name] = _cents(pc.fill_null(part, "0.00"))
    large = pc.or_(
        pc.or_(
            pc.greater_equal(pc.abs(sums["extension"]), _LIMIT),
            pc.greater_equal(pc.abs(sums["price"]), _LIMIT),
        ),
        pc.or_(
            pc.greater_equal(pc.abs(sums["quantity"]), _LIMIT),
            pc.greater_equal(pc.abs(sums["minimum"]), _LIMIT),
        ),
    )
    total = pc.add(
        pc.add(sums["extension"], sums["price"]), pc.add(sums["quantity"], sums["minimum"])
    )
    adds_up = pc.and_(pc.equal(signed, variance), pc.equal(total, variance))
    plain = pc.and_(pc.and_(ascii_, once), pc.invert(large))
    decomposed = pc.and_(pc.and_(matched, adds_up), plain)
    # Lines without any statement: not priced or not decomposed, by their status.
    none = pc.and_(pc.invert(matched), plain)
    priced = pc.is_in(status, value_set=pa.array(sorted(_PRICED_VALUES), pa.string()))
    zero = pa.scalar(0, pa.int64())
    table = pa.table(
        {
            "contract": contract,
            **{name: pc.if_else(decomposed, sums[name], zero) for name in PARTS},
            "not_priced": pc.if_else(pc.and_(none, pc.invert(priced)), variance, zero),
            "not_decomposed": pc.if_else(pc.and_(none, priced), variance, zero),
        }
    )
    order = pc.unique(contract).to_pylist()  # in the order first seen
    names = [*PARTS, "not_priced", "not_decomposed"]
    grouped = table.group_by("contract").aggregate([(name, "sum") for name in names])
    got = dict(
        zip(
            grouped.column("contract").to_pylist(),
            zip(*(grouped.column(f"{name}_sum").to_pylist() for name in names), strict=True),
            strict=True,
        )
    )
    for c in order:
        row = scan.parts.get(c)
        if row is None:
            row = scan.parts[c] = [0, 0, 0, 0, 0, 0]
        for k, v in enumerate(got[c]):
            row[k] += v
    # The rest, one by one, as the csv path does.
    rest = pc.indices_nonzero(pc.invert(pc.or_(decomposed, none)))
    if len(rest):
        for c, st, text, v in zip(
            pc.take(contract, rest).to_pylist(),
            pc.take(status, rest).to_pylist(),
            pc.take(explanation, rest).to_pylist(),
            pc.take(variance, rest).to_pylist(),
            strict=True,
        ):
            scan.add_variance(c, st, text, v)
