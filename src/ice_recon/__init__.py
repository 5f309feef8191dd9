"""Reconcile billed transport trips against trip manifests and contract rate schedules.

The supported API is what this module exports; everything else may change.

>>> import ice_recon
>>> ice_recon.Status.MATCHED == "MATCHED"
True
"""

from ice_recon._version import __version__
from ice_recon.controls import PaymentLedgers
from ice_recon.errors import (
    ArgumentError,
    ArgumentTypeError,
    IceReconError,
    InputError,
    InputErrors,
    MissingEvidenceError,
    MoneyTypeError,
    NotAFolderError,
    OutputError,
    Problem,
    RuleNotFoundError,
    UnknownStatusError,
)
from ice_recon.frames import load_frames
from ice_recon.index import FuelTerms, Index, PricingRule, RateIndex, Tier, build
from ice_recon.load import Inputs, load, load_files, validate
from ice_recon.money import IncrementRounding, Rounding
from ice_recon.oversight import CapacityRow, ContractRow, Oversight, OversightRow
from ice_recon.policy import Policy, Tolerance
from ice_recon.price import LinePricing, MissingEvidence, Pricing, price, price_line, price_trip
from ice_recon.reconcile import reconcile
from ice_recon.records import (
    Appointment,
    ContractTerms,
    CorLevel,
    Finding,
    FuelIndexPoint,
    FuelRule,
    InterestRate,
    InvoiceHeader,
    InvoiceLine,
    InvoiceStatus,
    RateRule,
    Risk,
    StaffAssignment,
    Status,
    TierMode,
    Trip,
    TripStatus,
    WeekRule,
)
from ice_recon.report import (
    ContractSummary,
    InvoiceFinding,
    Ledgers,
    LineResult,
    Report,
    StatusCounts,
    Totals,
    UnbilledTrip,
)
from ice_recon.stream import reconcile_to

__all__ = [
    "Appointment",
    "ArgumentError",
    "ArgumentTypeError",
    "CapacityRow",
    "ContractRow",
    "ContractSummary",
    "ContractTerms",
    "CorLevel",
    "Finding",
    "FuelIndexPoint",
    "FuelRule",
    "FuelTerms",
    "IceReconError",
    "IncrementRounding",
    "Index",
    "InputError",
    "InputErrors",
    "Inputs",
    "InterestRate",
    "InvoiceFinding",
    "InvoiceHeader",
    "InvoiceLine",
    "InvoiceStatus",
    "Ledgers",
    "LinePricing",
    "LineResult",
    "MissingEvidence",
    "MissingEvidenceError",
    "MoneyTypeError",
    "NotAFolderError",
    "OutputError",
    "Oversight",
    "OversightRow",
    "PaymentLedgers",
    "Policy",
    "Pricing",
    "PricingRule",
    "Problem",
    "RateIndex",
    "RateRule",
    "Report",
    "Risk",
    "Rounding",
    "RuleNotFoundError",
    "StaffAssignment",
    "Status",
    "StatusCounts",
    "Tier",
    "TierMode",
    "Tolerance",
    "Totals",
    "Trip",
    "TripStatus",
    "UnbilledTrip",
    "UnknownStatusError",
    "WeekRule",
    "__version__",
    "build",
    "load",
    "load_files",
    "load_frames",
    "price",
    "price_line",
    "price_trip",
    "reconcile",
    "reconcile_to",
    "validate",
]
