"""Tests for ice_recon.records: frozen, validated value records and the public API surface."""

from __future__ import annotations

import datetime as dt
import decimal
import subprocess
import sys
from decimal import Decimal
from typing import Any

import attrs
import pytest

import ice_recon
from ice_recon import (
    Finding,
    FuelIndexPoint,
    FuelRule,
    InvoiceHeader,
    InvoiceLine,
    InvoiceStatus,
    MoneyTypeError,
    RateRule,
    StaffAssignment,
    Status,
    TierMode,
    Trip,
    TripStatus,
    WeekRule,
)
from ice_recon.errors import ArgumentError

D = Decimal
DAY = dt.date

#: Keyword arguments of one valid record of each type.
VALID: dict[type, dict[str, Any]] = {
    RateRule: {
        "contract_id": "C1",
        "clin": "0001",
        "basis": "loaded_miles",
        "rate": D("2.4575"),
        "start": DAY(2021, 10, 1),
        "end": DAY(2022, 9, 30),
        "minimum_amount": D("50.00"),
        "minimum_quantity": D("10"),
        "free_quantity": D("1.0"),
        "increment": D("0.25"),
        "increment_rounding": "up",
        "tier_from": D("0"),
        "tier_mode": "all_units",
        "rounding": "half_even",
        "authority": "P00003 B.2",
        "rule_id": "r1",
        "description": "loaded mile",
    },
    Trip: {
        "trip_id": "T1",
        "contract_id": "C1",
        "service_date": DAY(2021, 10, 4),
        "status": "cancelled",
        "origin": "DAL",
        "destination": "HOU",
        "cancel_notice_hours": D("12.5"),
        "measures": {"loaded_miles": D("137.4"), "wait_hours": D("1.25")},
    },
    StaffAssignment: {
        "trip_id": "T1",
        "contract_id": "C1",
        "person_id": "P1",
        "labor_category": "GUARD",
        "hours": D("8.5"),
    },
    FuelIndexPoint: {"series": "DIESEL", "week": DAY(2021, 10, 4), "price": D("3.512")},
    FuelRule: {
        "contract_id": "C1",
        "clin": "0002",
        "start": DAY(2021, 10, 1),
        "end": DAY(2022, 9, 30),
        "base_price": D("2.50"),
        "mpg": D("6.5"),
        "series": "DIESEL",
        "week_rule": "prior_week",
        "places": 3,
        "basis": "loaded_miles",
        "rounding": "down",
        "authority": "P00001 H.4",
        "rule_id": "fsc",
    },
    InvoiceLine: {
        "invoice_id": "INV-1",
        "line_no": 1,
        "contract_id": "C1",
        "clin": "0001",
        "service_date": DAY(2021, 10, 4),
        "quantity": D("137.4"),
        "unit_price": D("2.4575"),
        "amount": D("337.66"),
        "trip_ref": "T1",
        "labor_category": "GUARD",
        "person_id": "P1",
        "origin": "DAL",
        "destination": "HOU",
        "description": "Dallas, TX\nto Houston",
    },
    InvoiceHeader: {
        "invoice_id": "INV-1",
        "contract_id": "C1",
        "invoice_date": DAY(2021, 10, 31),
        "received_date": DAY(2021, 11, 1),
        "total": D("337.66"),
        "status": "paid",
        "paid_date": DAY(2021, 11, 30),
        "approved_by": "COR Smith",
        "approved_date": DAY(2021, 11, 5),
        "paid_amount": D("337.66"),
    },
}

RECORD_TYPES = list(VALID)


def make(cls: type, **changes: Any) -> Any:
    """Build a valid record of *cls*, with *changes* to its keyword arguments."""
    return cls(**(VALID[cls] | changes))


#: (record type, field) of every Decimal field that holds a quantity, price or money.
DECIMAL_FIELDS = [
    (RateRule, "rate"),
    (RateRule, "minimum_amount"),
    (RateRule, "minimum_quantity"),
    (RateRule, "free_quantity"),
    (RateRule, "increment"),
    (RateRule, "tier_from"),
    (Trip, "cancel_notice_hours"),
    (StaffAssignment, "hours"),
    (FuelIndexPoint, "price"),
    (FuelRule, "base_price"),
    (FuelRule, "mpg"),
    (InvoiceLine, "quantity"),
    (InvoiceLine, "unit_price"),
    (InvoiceLine, "amount"),
    (InvoiceHeader, "total"),
    (InvoiceHeader, "paid_amount"),
]


class TestFrozen:
    """Records are immutable and hashable."""

    @pytest.mark.parametrize("cls", RECORD_TYPES, ids=lambda c: c.__name__)
    def test_assigning_raises(self, cls: type) -> None:
        """Assigning any field raises attrs' FrozenError (an AttributeError)."""
        record = make(cls)

        for field in attrs.fields(cls):
            with pytest.raises(attrs.exceptions.FrozenError):
                setattr(record, field.name, getattr(record, field.name))

    @pytest.mark.parametrize("cls", RECORD_TYPES, ids=lambda c: c.__name__)
    def test_equal_records_hash_equal(self, cls: type) -> None:
        """Two records built from the same values are equal and hash the same."""
        expected = (make(cls), hash(make(cls)))

        actual = (make(cls), hash(make(cls)))

        assert expected == actual

    def test_evolve_makes_a_changed_copy(self) -> None:
        """attrs.evolve returns a new record and leaves the original as it was."""
        line = make(InvoiceLine)

        copy = attrs.evolve(line, amount=D("1.00"))

        actual = (line.amount, copy.amount)
        expected = (D("337.66"), D("1.00"))
        assert expected == actual

    def test_keyword_only(self) -> None:
        """Records take keyword arguments only (no positional mix-ups)."""
        with pytest.raises(TypeError):
            FuelIndexPoint("DIESEL", DAY(2021, 10, 4), D("3.5"))  # type: ignore[misc]


class TestDecimalFields:
    """Decimal fields reject floats, NaN, infinities and negatives; money has 2 places."""

    @pytest.mark.parametrize(
        ("cls", "field"), DECIMAL_FIELDS, ids=lambda x: getattr(x, "__name__", x)
    )
    def test_float_is_a_type_error(self, cls: type, field: str) -> None:
        """A float is a TypeError (a MoneyTypeError), never silently converted."""
        with pytest.raises(TypeError) as info:
            make(cls, **{field: 1.5})

        assert isinstance(info.value, MoneyTypeError)

    @pytest.mark.parametrize(
        ("cls", "field"), DECIMAL_FIELDS, ids=lambda x: getattr(x, "__name__", x)
    )
    @pytest.mark.parametrize("text", ["NaN", "sNaN", "Infinity", "-Infinity"])
    def test_not_finite_is_a_value_error(self, cls: type, field: str, text: str) -> None:
        """NaN and infinities raise ValueError, not decimal.InvalidOperation."""
        with pytest.raises(ValueError, match="finite") as info:
            make(cls, **{field: D(text)})

        assert not isinstance(info.value, decimal.InvalidOperation)

    @pytest.mark.parametrize(
        ("cls", "field"), DECIMAL_FIELDS, ids=lambda x: getattr(x, "__name__", x)
    )
    def test_negative_is_a_value_error(self, cls: type, field: str) -> None:
        """A negative quantity, price or amount raises ValueError (credits are not supported)."""
        with pytest.raises(ValueError, match=r"negative|greater than 0"):
            make(cls, **{field: D("-1.00")})

    @pytest.mark.parametrize(
        ("cls", "field"),
        [(InvoiceLine, "amount"), (RateRule, "minimum_amount"), (InvoiceHeader, "total")],
    )
    @pytest.mark.parametrize("value", ["337.661", "0.001", "1.000"])
    def test_money_with_three_places_is_a_value_error(
        self, cls: type, field: str, value: str
    ) -> None:
        """Money amounts have at most 2 decimal places (even when the third is a 0)."""
        with pytest.raises(ValueError, match="2 decimal places"):
            make(cls, **{field: D(value)})

    @pytest.mark.parametrize(
        ("cls", "field"),
        [(InvoiceLine, "quantity"), (InvoiceLine, "unit_price"), (RateRule, "rate")],
    )
    def test_quantities_and_rates_keep_any_scale(self, cls: type, field: str) -> None:
        """Quantities and rates are not money: 4 and more places are fine."""
        actual = getattr(make(cls, **{field: D("2.45751")}), field)

        expected = D("2.45751")
        assert expected == actual

    @pytest.mark.parametrize(("cls", "field"), [(RateRule, "increment"), (FuelRule, "mpg")])
    def test_zero_is_a_value_error_where_positive(self, cls: type, field: str) -> None:
        """increment and mpg must be greater than 0."""
        with pytest.raises(ValueError, match="greater than 0"):
            make(cls, **{field: D("0.00")})

    def test_float_measure_is_a_type_error(self) -> None:
        """A float measure of a trip is a TypeError."""
        with pytest.raises(TypeError):
            make(Trip, measures={"loaded_miles": 137.4})

    @pytest.mark.parametrize("value", ["-0.1", "NaN"])
    def test_bad_measure_is_a_value_error(self, value: str) -> None:
        """A negative or NaN measure of a trip is a ValueError."""
        with pytest.raises(ValueError, match=r"negative|finite") as info:
            make(Trip, measures={"loaded_miles": D(value)})

        assert not isinstance(info.value, decimal.InvalidOperation)

    def test_scale_is_kept(self) -> None:
        """Values keep the scale they were written with."""
        actual = str(make(InvoiceLine, quantity=D("137.40")).quantity)

        expected = "137.40"
        assert expected == actual


class TestOtherFields:
    """Text, date, integer and enum fields are checked for type and invariants."""

    @pytest.mark.parametrize("line_no", [0, -1])
    def test_line_no_must_be_positive(self, line_no: int) -> None:
        """line_no is a positive integer."""
        with pytest.raises(ValueError, match="line_no"):
            make(InvoiceLine, line_no=line_no)

    @pytest.mark.parametrize("line_no", ["1", 1.0, D("1")])
    def test_line_no_must_be_an_int(self, line_no: Any) -> None:
        """line_no is an int, not text or a number of another type."""
        with pytest.raises(TypeError):
            make(InvoiceLine, line_no=line_no)

    def test_line_no_must_not_be_a_bool(self) -> None:
        """line_no=True is a TypeError, not line 1."""
        with pytest.raises(TypeError):
            make(InvoiceLine, line_no=True)

    @pytest.mark.parametrize("value", ["", "   "])
    def test_empty_text_is_a_value_error(self, value: str) -> None:
        """A required identifier must not be empty."""
        with pytest.raises(ValueError, match="must not be empty"):
            make(InvoiceLine, contract_id=value)

    def test_text_must_be_str(self) -> None:
        """An identifier that is not a str is a TypeError."""
        with pytest.raises(TypeError):
            make(InvoiceLine, clin=1)

    @pytest.mark.parametrize("value", ["2021-10-04", dt.datetime(2021, 10, 4, 12, 0)])
    def test_date_must_be_a_date(self, value: Any) -> None:
        """A date field takes a datetime.date, neither text nor a datetime."""
        with pytest.raises(TypeError):
            make(InvoiceLine, service_date=value)

    @pytest.mark.parametrize(
        ("cls", "field", "value"),
        [
            (Trip, "status", "done"),
            (RateRule, "tier_mode", "stepped"),
            (RateRule, "rounding", "bankers"),
            (RateRule, "increment_rounding", "half"),
            (FuelRule, "week_rule", "next_week"),
            (InvoiceHeader, "status", "rejected"),
        ],
    )
    def test_enum_field_rejects_unknown_value(self, cls: type, field: str, value: str) -> None:
        """An enum field converts its CSV spelling and rejects anything else."""
        with pytest.raises(ArgumentError, match="must be one of: "):
            make(cls, **{field: value})

    def test_enum_fields_are_converted(self) -> None:
        """CSV spellings become the enum members."""
        rule, trip = make(RateRule), make(Trip)
        expected = (TierMode.ALL_UNITS, ice_recon.Rounding.HALF_EVEN, TripStatus.CANCELLED)

        actual = (rule.tier_mode, rule.rounding, trip.status)

        assert expected == actual

    def test_trip_defaults(self) -> None:
        """A trip is completed by default and has no measures."""
        trip = Trip(trip_id="T1", contract_id="C1", service_date=DAY(2021, 10, 4))
        expected = (TripStatus.COMPLETED, (), None)

        actual = (trip.status, trip.measures, trip.measure("loaded_miles"))

        assert expected == actual

    def test_unrecorded_measure_is_absent(self) -> None:
        """A measure given as None is not recorded (absent, never zero)."""
        trip = make(Trip, measures={"loaded_miles": D("1"), "wait_hours": None})
        expected = ((("loaded_miles", D("1")),), None)

        actual = (trip.measures, trip.measure("wait_hours"))

        assert expected == actual

    def test_fuel_rule_defaults(self) -> None:
        """A fuel rule defaults to service_week, 2 places and the loaded_miles basis."""
        rule = FuelRule(
            contract_id="C1",
            clin="0002",
            start=DAY(2021, 10, 1),
            end=DAY(2022, 9, 30),
            base_price=D("2.50"),
            mpg=D("6"),
            series="DIESEL",
        )
        expected = (WeekRule.SERVICE_WEEK, 2, "loaded_miles")

        actual = (rule.week_rule, rule.places, rule.basis)

        assert expected == actual

    def test_invoice_line_key(self) -> None:
        """An invoice line is identified by (contract_id, invoice_id, line_no)."""
        actual = make(InvoiceLine).key

        expected = ("C1", "INV-1", 1)
        assert expected == actual


class TestToRow:
    """to_row() gives the CSV row a record stands for, and load_files reads it back."""

    @pytest.mark.parametrize("cls", RECORD_TYPES, ids=lambda c: c.__name__)
    def test_cells_are_text(self, cls: type) -> None:
        """Every cell of to_row() is a str."""
        row = make(cls).to_row()

        actual = {name: type(value) for name, value in row.items()}

        expected = dict.fromkeys(row, str)
        assert expected == actual

    def test_invoice_line_row(self) -> None:
        """Decimals keep their scale, dates are ISO, absent values are empty cells."""
        line = make(InvoiceLine, labor_category=None, quantity=D("137.40"))
        expected = {
            "invoice_id": "INV-1",
            "line_no": "1",
            "contract_id": "C1",
            "clin": "0001",
            "service_date": "2021-10-04",
            "quantity": "137.40",
            "unit_price": "2.4575",
            "amount": "337.66",
            "trip_ref": "T1",
            "labor_category": "",
            "person_id": "P1",
            "origin": "DAL",
            "destination": "HOU",
            "description": "Dallas, TX\nto Houston",
        }

        actual = line.to_row()

        assert expected == actual

    def test_trip_row_has_measures_as_columns(self) -> None:
        """A trip's measures become columns of its manifests.csv row."""
        actual = make(Trip).to_row()

        expected = {
            "trip_id": "T1",
            "contract_id": "C1",
            "service_date": "2021-10-04",
            "status": "cancelled",
            "origin": "DAL",
            "destination": "HOU",
            "cancel_notice_hours": "12.5",
            "loaded_miles": "137.4",
            "wait_hours": "1.25",
        }
        assert expected == actual

    def test_every_type_round_trips_through_load_files(self) -> None:
        """Each record loaded by load_files() comes back equal, with no problem."""
        trip = make(Trip, status="completed")
        sources = {
            "rates": [make(RateRule)],
            "manifests": [trip],
            "staff": [make(StaffAssignment)],
            "fuel_index": [make(FuelIndexPoint)],
            "fuel_rules": [make(FuelRule)],
            "invoice_lines": [make(InvoiceLine)],
            "invoices": [make(InvoiceHeader)],
        }
        expected = ((), sources)

        inputs = ice_recon.load_files(**sources)

        actual = (
            inputs.problems,
            {
                "rates": [s.record for s in inputs.rates],
                "manifests": list(inputs.manifests.trips()),
                "staff": [inputs.staff.assignment(i) for i in range(len(inputs.staff))],
                "fuel_index": [s.record for s in inputs.fuel_index],
                "fuel_rules": [s.record for s in inputs.fuel_rules],
                "invoice_lines": [inputs.invoice_lines.invoice_line(0)],
                "invoices": [s.record for s in inputs.invoices],
            },
        )
        assert expected == actual

    def test_negative_zero_is_rejected_like_the_text(self) -> None:
        """Decimal('-0') is negative for a record, as the text '-0' is for the loader."""
        with pytest.raises(ValueError, match="negative"):
            make(InvoiceLine, quantity=D("-0"), amount=D("0.00"))

    @pytest.mark.parametrize(
        ("table", "cls"),
        [
            ("rates", RateRule),
            ("manifests", Trip),
            ("staff", StaffAssignment),
            ("fuel_index", FuelIndexPoint),
            ("fuel_rules", FuelRule),
            ("invoice_lines", InvoiceLine),
            ("invoices", InvoiceHeader),
        ],
    )
    def test_records_and_their_rows_load_the_same(self, table: str, cls: type) -> None:
        """Loading records and loading their to_row() dicts give the same problems and tables."""
        base = {
            "rates": [make(RateRule)],
            "manifests": [make(Trip)],
            "invoice_lines": [make(InvoiceLine)],
        }
        records = [make(cls)]
        rows = [r.to_row() for r in records]
        expected = ice_recon.load_files(**(base | {table: records}))

        actual = ice_recon.load_files(**(base | {table: rows}))

        assert (expected.problems, expected.rates, expected.invoices) == (
            actual.problems,
            actual.rates,
            actual.invoices,
        )


class TestEnums:
    """Enums have stable string values."""

    @pytest.mark.parametrize("member", list(Status), ids=str)
    def test_status_value_is_its_name(self, member: Status) -> None:
        """Status values equal their names (Status.MATCHED == "MATCHED")."""
        actual = (member.value, member == member.name, str(member))

        expected = (member.name, True, member.name)
        assert expected == actual

    def test_statuses_in_table_order(self) -> None:
        """Status lists the fourteen rows of the status table of section 5, in order."""
        expected = [
            "INVALID",
            "NO_RATE",
            "UNSUPPORTED",
            "NOT_PERFORMED",
            "DUPLICATE",
            "MATCHED",
            "LABOR_CATEGORY_MISMATCH",
            "MINIMUM_MISAPPLIED",
            "EXTENSION_ERROR",
            "QUANTITY_MISMATCH",
            "RATE_MISMATCH",
            "ROUNDING_DIFF",
            "AMOUNT_MISMATCH",
        ]

        actual = [s.value for s in Status]

        assert expected == actual

    @pytest.mark.parametrize("member", list(Finding), ids=str)
    def test_finding_value_is_its_name(self, member: Finding) -> None:
        """Finding values equal their names."""
        actual = member.value

        expected = member.name
        assert expected == actual

    @pytest.mark.parametrize(
        ("enum", "expected"),
        [
            (TripStatus, ["completed", "cancelled"]),
            (TierMode, ["all_units", "graduated"]),
            (WeekRule, ["service_week", "prior_week"]),
            (InvoiceStatus, ["received", "approved", "paid"]),
        ],
    )
    def test_csv_spellings(self, enum: Any, expected: list[str]) -> None:
        """Enums read from CSV have the spellings of section 4 as values."""
        actual = [m.value for m in enum]

        assert expected == actual


class TestPublicApi:
    """The supported API is what ice_recon exports."""

    def test_all_is_sorted(self) -> None:
        """ice_recon.__all__ is sorted."""
        actual = list(ice_recon.__all__)

        expected = sorted(actual)
        assert expected == actual

    @pytest.mark.parametrize("name", ice_recon.__all__)
    def test_every_name_resolves(self, name: str) -> None:
        """Every name in __all__ is an attribute of the package."""
        assert hasattr(ice_recon, name)

    @pytest.mark.parametrize(
        "name",
        ["load", "validate", "load_files", "Inputs", "Problem", "InputError", "Status", "Policy"],
    )
    def test_contract_names_are_exported(self, name: str) -> None:
        """The names DESIGN section 6 promises are in __all__."""
        assert name in ice_recon.__all__

    def test_import_does_not_import_hypothesis(self) -> None:
        """Importing ice_recon does not import hypothesis (it is an optional extra)."""
        code = "import ice_recon, sys; assert 'hypothesis' not in sys.modules"

        actual = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)

        expected = (0, "")
        assert expected == (actual.returncode, actual.stderr)

    def test_errors_inherit_the_builtin(self) -> None:
        """InputError is a ValueError and MoneyTypeError a TypeError, both IceReconError."""
        expected = (True, True, True, True, True)

        actual = (
            issubclass(ice_recon.InputError, ValueError),
            issubclass(ice_recon.InputError, ice_recon.IceReconError),
            issubclass(ice_recon.MoneyTypeError, TypeError),
            issubclass(ice_recon.MoneyTypeError, ice_recon.IceReconError),
            issubclass(ice_recon.RuleNotFoundError, LookupError),
        )

        assert expected == actual
