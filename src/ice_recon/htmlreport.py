"""Write ``report.html``: one self-contained page of an output folder, with charts.

:func:`write_report` reads the files of a complete run (``ice-recon reconcile … --out``,
``Report.write``), never its inputs, so a 1M-line run is not reconciled again. The page
holds aggregates and the *top* invoices, lines, findings and problems by amount; the full
data stays in the CSV files beside it. It makes no request of any kind: the charts are
inline SVG drawn by matplotlib, the styles and the one script (sorting and filtering the
tables) are inline, and a Content-Security-Policy forbids anything else (``default-src
'none'``; the script is allowed by its hash alone).

Needs the optional extra ``report`` (``pip install 'ice-recon[report]'``: Jinja2 and
matplotlib); without it, :class:`~ice_recon.errors.MissingExtraError` says so.

Added in 0.3.0.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Final

from ice_recon import _charts
from ice_recon._outdir import PARTS, Folder, read_folder
from ice_recon._render import html_env, require, script_hash
from ice_recon.money import format_cents
from ice_recon.output import output_errors

__all__ = ["DEFAULT_TOP", "render_report", "write_report"]

#: How many invoices, lines, findings and problem kinds the page lists by default.
DEFAULT_TOP: Final = 50

#: The ledgers of DESIGN section 6, then the payment ledgers and funds put to better use
#: of section 9, as summary.json names them.
_LEDGERS: Final = (
    "billed",
    "expected",
    "variance",
    "questioned",
    "erroneous",
    "unsupported",
    "underbilled",
)
_PAYMENTS: Final = ("paid_erroneous", "paid_unsupported", "to_withhold", "interest_due")
_BETTER_USE: Final = ("unused_capacity", "deobligation", "funds_put_to_better_use")

_Q_COLOUR: Final = "#c0392b"
_U_COLOUR: Final = "#2471a3"
_PART_COLOURS: Final = ("#7d3c98", "#d68910", "#c0392b", "#17a589", "#7f8c8d", "#34495e")


def _script() -> str:
    from importlib.resources import files

    return (files("ice_recon") / "templates" / "report.js").read_text(encoding="utf-8")


def _money(cents: int) -> str:
    return format_cents(cents)


def _top_contracts(folder: Folder) -> list[str]:
    """The contracts with the most questioned (then underbilled), at most *top*."""
    rows = [
        (
            -_cents(r.get("questioned", "0.00")),
            -_cents(r.get("underbilled", "0.00")),
            r["contract_id"],
        )
        for r in folder.contracts
    ]
    return [c for *_, c in sorted(rows)[: folder.top]]


def _cents(text: str) -> int:
    from ice_recon._outdir import money

    return money(text) if text else 0


def _chart(key: str, title: str, svg: str) -> dict[str, str]:
    return {"id": key, "title": title, "svg": svg}


def _by_status(folder: Folder) -> dict[str, str] | None:
    shown = [s for s in folder.statuses if s[3] or s[4]]
    return _chart(
        "by-status",
        "Questioned and underbilled by status",
        _charts.bars(
            "by-status",
            "Questioned and underbilled by status",
            [s[0] for s in shown] or ["(none)"],
            [
                ("questioned", [s[3] for s in shown] or [0], _Q_COLOUR),
                ("underbilled", [s[4] for s in shown] or [0], _U_COLOUR),
            ],
        ),
    )


def _by_contract(folder: Folder) -> dict[str, str] | None:
    by_id = {r["contract_id"]: r for r in folder.contracts}
    contracts = _top_contracts(folder)
    return _chart(
        "by-contract",
        "Questioned and underbilled by contract",
        _charts.bars(
            "by-contract",
            f"Questioned and underbilled by contract (top {len(contracts)})",
            contracts or ["(none)"],
            [
                (
                    "questioned",
                    [_cents(by_id[c]["questioned"]) for c in contracts] or [0],
                    _Q_COLOUR,
                ),
                (
                    "underbilled",
                    [_cents(by_id[c]["underbilled"]) for c in contracts] or [0],
                    _U_COLOUR,
                ),
            ],
        ),
    )


def _by_month(folder: Folder) -> dict[str, str] | None:
    months = folder.months
    return _chart(
        "by-month",
        "Questioned and underbilled by month",
        _charts.bars(
            "by-month",
            "Questioned and underbilled by month (all contracts)",
            [m[0] for m in months] or ["(none)"],
            [
                ("questioned", [m[3] for m in months] or [0], _Q_COLOUR),
                ("underbilled", [m[4] for m in months] or [0], _U_COLOUR),
            ],
            horizontal=False,
        ),
    )


def _decomposition(folder: Folder) -> dict[str, str] | None:
    contracts = _top_contracts(folder)
    decomposed = [c for c in contracts if c in folder.decomposition] or sorted(
        folder.decomposition
    )[: folder.top]
    names = [*PARTS, "not priced", "not decomposed"]
    return _chart(
        "decomposition",
        "Variance decomposition by contract",
        _charts.bars(
            "decomposition",
            "Variance decomposition by contract (billed − expected)",
            decomposed or ["(none)"],
            [
                (name, [folder.decomposition[c][i] for c in decomposed] or [0], colour)
                for i, (name, colour) in enumerate(zip(names, _PART_COLOURS, strict=True))
                if any(folder.decomposition[c][i] for c in decomposed) or i == 0
            ],
            stacked=True,
        ),
    )


def _unbilled(folder: Folder) -> dict[str, str] | None:
    unbilled_months = sorted({m for _, m in folder.unbilled})
    per_month = [
        sum(n for (_, m), n in folder.unbilled.items() if m == month) for month in unbilled_months
    ]
    return _chart(
        "unbilled",
        "Unbilled trips by month",
        _charts.bars(
            "unbilled",
            "Unbilled trips by month (all contracts)",
            unbilled_months or ["(none)"],
            [("unbilled trips", per_month or [0], _U_COLOUR)],
            money=False,
            horizontal=False,
        ),
    )


def _payments(folder: Folder) -> dict[str, str] | None:
    ledgers: Mapping[str, str] = folder.summary.get("ledgers", {})
    payments = [k for k in (*_PAYMENTS, "unused_capacity", "deobligation") if k in ledgers]
    if not payments:
        return None
    return _chart(
        "payments",
        "Payment ledgers and funds put to better use",
        _charts.bars(
            "payments",
            "Payment ledgers (DESIGN §9) and funds put to better use",
            payments,
            [("amount", [_cents(ledgers[k]) for k in payments], "#1e8449")],
        ),
    )


#: The charts of the page, in its order; the second element tells whether a chart needs
#: the figures of results.csv (the others can be drawn while it is read).
_CHARTS: Final[tuple[tuple[Callable[[Folder], dict[str, str] | None], bool], ...]] = (
    (_by_status, True),
    (_by_contract, False),
    (_by_month, False),
    (_decomposition, True),
    (_unbilled, False),
    (_payments, False),
)


def _charts_of(
    folder: Folder, drawn: Mapping[str, dict[str, str] | None] | None = None
) -> list[dict[str, str]]:
    """The charts of *folder*, in the page's order; those in *drawn* are not drawn again."""
    charts: list[dict[str, str]] = []
    for function, _ in _CHARTS:
        if drawn is not None and function.__name__ in drawn:
            chart = drawn[function.__name__]
        else:
            chart = function(folder)
        if chart is not None:
            charts.append(chart)
    return charts


class _Early:
    """Draw the charts that need no figure of results.csv in a thread, while it is read.

    The thread starts at once: it imports matplotlib's figure and SVG backend and loads
    the page's template while the small files are read, then draws, with matplotlib's
    object-oriented API (no pyplot, no global figure), the charts :meth:`start` gives it
    the figures of. The main thread draws nothing until :meth:`drawn` has joined it. With
    pyarrow reading results.csv (outside the GIL), the two overlap.
    """

    def __init__(self) -> None:
        self.folder: Folder | None = None
        self.ready = threading.Event()
        self.charts: dict[str, dict[str, str] | None] = {}
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def start(self, folder: Folder) -> None:
        """Draw the charts of *folder* that need no figure of results.csv."""
        self.folder = folder
        self.ready.set()

    def _run(self) -> None:
        try:
            _charts.require()
            import matplotlib.backends.backend_svg  # noqa: F401 - loaded before it is needed

            html_env().get_template("report.html.j2")
            self.ready.wait()
            folder = self.folder
            if folder is None:
                return  # the reading failed: nothing to draw
            for function, needs_results in _CHARTS:
                if not needs_results:
                    self.charts[function.__name__] = function(folder)
        except BaseException as exc:  # raised again in the main thread, by drawn()
            self.error = exc

    def join(self) -> None:
        """Wait for the thread (which draws nothing more when :meth:`start` was not called)."""
        self.ready.set()
        self.thread.join()

    def drawn(self) -> dict[str, dict[str, str] | None]:
        """The charts drawn by the thread (an error it met is raised here)."""
        self.join()
        if self.error is not None:
            raise self.error
        return self.charts


def render_report(folder: Folder) -> str:
    """Return the text of ``report.html`` for the figures of *folder*."""
    return _render(folder, None)


def _render(folder: Folder, drawn: Mapping[str, dict[str, str] | None] | None) -> str:
    require("ice-recon report")
    script = _script()
    summary = folder.summary
    ledgers: Mapping[str, str] = summary.get("ledgers", {})
    unbilled_contracts = sorted({c for c, _ in folder.unbilled})
    unbilled_months = sorted({m for _, m in folder.unbilled})
    context: dict[str, Any] = {
        "f": folder,
        "name": folder.path.resolve().name,
        "summary": summary,
        "ledgers": [(k, ledgers[k]) for k in _LEDGERS if k in ledgers],
        "payments": [(k, ledgers[k]) for k in _PAYMENTS if k in ledgers],
        "better_use": [(k, ledgers[k]) for k in _BETTER_USE if k in ledgers],
        "charts": _charts_of(folder, drawn),
        "money": _money,
        "parts": [*PARTS, "not priced", "not decomposed"],
        "decomposition": sorted(folder.decomposition.items()),
        "unbilled_contracts": unbilled_contracts[: folder.top],
        "unbilled_months": unbilled_months,
        "script": script,
        "script_hash": script_hash(script),
        "line_count": sum(int(v) for v in summary.get("counts", {}).values()),
    }
    return html_env().get_template("report.html.j2").render(context)


def write_report(
    out_dir: str | os.PathLike[str],
    *,
    path: str | os.PathLike[str] | None = None,
    top: int = DEFAULT_TOP,
) -> Path:
    """Write the ``report.html`` of the output folder *out_dir*; return its path.

    Args:
        out_dir: the folder of a complete run (it has ``summary.json``).
        path: where to write the page (default ``OUT_DIR/report.html``).
        top: how many invoices, lines, findings, problem kinds and table rows to list.

    Raises:
        MissingExtraError: the extra ``report`` is not installed.
        InputError: *out_dir* holds no complete run.
        OutputError: the page cannot be written.
    """
    require("ice-recon report")
    early = _Early()
    try:
        folder = read_folder(out_dir, top=top, early=early.start)
    except BaseException:
        early.join()  # the reading's error is the one to raise
        raise
    text = _render(folder, early.drawn())
    target = Path(path) if path is not None else Path(out_dir) / "report.html"
    with output_errors(target):
        part = target.with_name(f".{target.name}.{os.getpid()}.part")
        try:
            part.write_text(text, encoding="utf-8", newline="\n")
            part.replace(target)
        finally:
            part.unlink(missing_ok=True)
    return target
