"""The API as the docs use it: counts by status name, INVALID lines' empty fields."""

from __future__ import annotations

import pytest

import ice_recon
from ice_recon import Status, StatusCounts
from ice_recon.cli import sample_dir
from ice_recon.errors import IceReconError


class TestStatusCounts:
    def test_indexable_by_status_and_by_name(self) -> None:
        """report.counts["MATCHED"] is report.counts[Status.MATCHED] for every status."""
        report = ice_recon.reconcile(sample_dir())
        expected = {s.value: sum(1 for line in report.lines if line.status is s) for s in Status}

        actual = {s.value: report.counts[s.value] for s in Status}

        assert expected == actual
        assert all(report.counts[s] == report.counts[s.value] for s in Status)

    def test_every_status_present(self) -> None:
        """Every status is a key, zeros included, and iteration yields Status members."""
        counts = StatusCounts({"MATCHED": 2})

        assert list(Status) == list(counts)
        assert {**dict.fromkeys(Status, 0), Status.MATCHED: 2} == dict(counts)

    def test_unknown_name_is_a_key_error(self) -> None:
        """A misspelled status name raises UnknownStatusError, a KeyError and IceReconError."""
        counts = StatusCounts()

        with pytest.raises(KeyError) as raised:
            counts["MATCHD"]

        assert isinstance(raised.value, IceReconError)
        assert "MATCHD" not in counts
        assert counts.get("MATCHD") is None

    def test_contract_counts_by_name(self) -> None:
        """A contract's counts are indexable by name as well."""
        report = ice_recon.reconcile(sample_dir())
        expected = sum(
            1
            for line in report.lines
            if line.contract_id == "70CDCR-20-C-00007" and line.status is Status.MATCHED
        )

        actual = report.contracts["70CDCR-20-C-00007"].counts["MATCHED"]

        assert expected == actual


INVALID_NONE = (
    "billed",
    "expected",
    "variance",
    "erroneous",
    "unsupported",
    "underbilled",
    "trip_id",
    "rule_id",
    "rate_authority",
    "decomposition",
)


def test_invalid_line_fields_are_none_as_documented() -> None:
    """An INVALID line has None in exactly the fields its docstring lists; match is 'none'."""
    row = {
        "invoice_id": "I1",
        "line_no": "1",
        "contract_id": "C",
        "clin": "0001",
        "service_date": "2021-10-04",
        "quantity": "1e3",  # malformed: INVALID
        "unit_price": "1.00",
        "amount": "1.00",
        "trip_ref": "T1",
    }
    inputs = ice_recon.load_files(rates=[], manifests=[], invoice_lines=[row])

    (line,) = ice_recon.reconcile(inputs).lines

    assert line.status == Status.INVALID
    assert dict.fromkeys(INVALID_NONE) == {n: getattr(line, n) for n in INVALID_NONE}
    assert (line.match, line.line_no) == ("none", 1)
    for name in INVALID_NONE:
        assert f"``{name}``" in (ice_recon.LineResult.__doc__ or "")
