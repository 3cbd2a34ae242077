"""The Royalties API's request and answer schemas (django-ninja). Rates, reserve rates and splits
are percent (25 = 25 %), stored exactly (rates as the fraction, 0.25); money is exact decimal
strings; an entry's amount is positive and its kind gives the sign."""

import datetime as dt
from decimal import Decimal
from typing import Annotated, Literal

from ninja import Field, Schema

from statements.royalties.models import (
    SALE_TYPES,
    Contract,
    LabelIncome,
    PaymentMethod,
    RoyaltyLedgerEntry,
    VatStatus,
)
from statements.royalties.percent import percent_of

K = RoyaltyLedgerEntry.Kind

# A percent keeps every digit the stored fraction can hold (10 places): two fewer.
Percent = Annotated[Decimal, Field(ge=0, le=100, decimal_places=8)]
Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$", description="ISO 4217, e.g. EUR.")]
Period = Annotated[str, Field(pattern=r"^(\d{4}-(0[1-9]|1[0-2]))?$", description="YYYY-MM; empty: open.")]
# Every text a client sends: PostgreSQL text holds no NUL, so one is refused as bad input, not a 500.
NO_NUL = r"^[^\x00]*$"
Text = Annotated[str, Field(pattern=NO_NUL)]
Name = Annotated[Text, Field(min_length=1, max_length=500)]


# --- payees ----------------------------------------------------------------------------------------


class PayeeFields(Schema):
    """A payee's fields; on PATCH only the ones sent change."""

    name: Text | None = Field(None, min_length=1, max_length=200)
    email: Text | None = Field(None, max_length=254)
    currency: Currency | None = Field(None, description="Statement currency; default EUR.")
    minimum_payout: Decimal | None = Field(None, ge=0, max_digits=18, decimal_places=4)
    active: bool | None = None
    email_statements: bool | None = Field(None, description="Email each statement (opt-in).")
    address: Text | None = Field(None, max_length=2000)
    country: Text | None = Field(None, max_length=2, description="ISO 3166 alpha-2.")
    tax_id: Text | None = Field(None, max_length=40, description="Checked for the country (python-stdnum).")
    vat_status: Literal[tuple(VatStatus.values)] | None = None
    withholding_rate: Percent | None = None
    payment_method: Literal[tuple(PaymentMethod.values)] | None = None
    iban: Text | None = Field(None, max_length=42)
    bic: Text | None = Field(None, max_length=11)
    paypal_email: Text | None = Field(None, max_length=254)
    wise_email: Text | None = Field(None, max_length=254)


class PayeeIn(PayeeFields):
    name: Text = Field(min_length=1, max_length=200)


class PayeeOut(Schema):
    id: int
    name: str
    email: str
    currency: str
    minimum_payout: Decimal
    active: bool
    email_statements: bool
    address: str
    country: str
    tax_id: str
    vat_status: str
    withholding_rate: Decimal
    payment_method: str
    iban: str
    bic: str
    paypal_email: str
    wise_email: str


# --- contracts -------------------------------------------------------------------------------------


class Rates(Schema):
    """Percent of net receipts per sale type."""

    stream: Percent
    download: Percent
    physical: Percent
    other: Percent


class Split(Schema):
    payee: int = Field(description="Payee id.")
    share: Decimal = Field(gt=0, le=100, decimal_places=6, description="Percent; a contract's add up to 100.")


class RateOverride(Schema):
    """A rate replacing the contract's for one DSP and/or territory (optionally one sale type)."""

    sale_type: Literal["", *SALE_TYPES] = Field("", description="Empty: every sale type.")
    dsp: Text = Field("", max_length=200)
    territory: str = Field("", pattern=r"^([A-Z]{2})?$")
    rate: Percent


class ContractIn(Schema):
    name: Text = Field(min_length=1, max_length=200)
    artists: list[Name] = Field(default_factory=list, description="Artist names the contract covers.")
    upcs: list[Name] = Field(default_factory=list, description="Release UPCs/EANs.")
    isrcs: list[Name] = Field(default_factory=list, description="Track ISRCs.")
    valid_from: Period = ""
    valid_to: Period = ""
    rates: Rates
    reserve_rate: Percent = Field(Decimal(0), description="Percent of download and physical earnings held.")
    reserve_periods: int = Field(0, ge=0, le=32767, description="Released this many finalised runs later.")
    cross_collateral_group: Text = Field("", max_length=100)
    splits: list[Split] = Field(min_length=1)
    rate_overrides: list[RateOverride] = Field(default_factory=list)


class ContractOut(Schema):
    """A contract with its rates, reserve rate and overrides in percent."""

    id: int
    name: str
    artists: list[str]
    upcs: list[str]
    isrcs: list[str]
    valid_from: str
    valid_to: str
    basis: str
    rates: Rates
    reserve_rate: Decimal
    reserve_periods: int
    cross_collateral_group: str
    splits: list[Split]
    rate_overrides: list[RateOverride]

    @staticmethod
    def resolve_rates(contract: Contract) -> dict:
        return {kind: percent_of(getattr(contract, f"rate_{kind}")) for kind in SALE_TYPES}

    @staticmethod
    def resolve_reserve_rate(contract: Contract) -> Decimal:
        return percent_of(contract.reserve_rate)

    @staticmethod
    def resolve_splits(contract: Contract) -> list[dict]:
        return [{"payee": s.payee_id, "share": s.share.normalize() + 0} for s in contract.splits.all()]

    @staticmethod
    def resolve_rate_overrides(contract: Contract) -> list[dict]:
        return [
            {"sale_type": o.sale_type, "dsp": o.dsp, "territory": o.territory, "rate": percent_of(o.rate)}
            for o in contract.rate_overrides.all()
        ]


# --- ledger ----------------------------------------------------------------------------------------


class EntryIn(Schema):
    payee: int
    contract: int
    kind: Literal["advance", "cost", "payment", "adjustment"] = Field(
        description="advance, cost and payment debit the balance; an adjustment credits or debits it."
    )
    direction: Literal["credit", "debit"] | None = Field(None, description="Required for an adjustment.")
    amount: Decimal = Field(
        gt=0, max_digits=40, decimal_places=24, description="Positive; the kind gives the sign."
    )
    currency: Currency | None = Field(None, description="Default: the payee's statement currency.")
    date: dt.date | None = Field(None, description="Default: today.")
    memo: Text = Field("", max_length=300)


class EntryOut(Schema):
    id: int
    payee: int = Field(validation_alias="payee_id")
    contract: int = Field(validation_alias="contract_id")
    kind: str
    amount: Decimal = Field(description="As entered: positive, but for earnings a run's returns outweighed.")
    direction: Literal["credit", "debit"] | None = Field(
        description="Whether it adds to or takes from the balance; null for a recoupment (a memo)."
    )
    balance_effect: Decimal = Field(
        description="What it adds to the balance (negative: a debit; 0 for a recoupment, a memo of what was repaid)."
    )
    currency: str
    date: dt.date
    memo: str
    royalty_run: int | None = Field(
        validation_alias="royalty_run_id",
        description="The finalised run that posted it; null: entered by hand.",
    )
    created_at: dt.datetime

    @staticmethod
    def resolve_amount(entry: RoyaltyLedgerEntry) -> Decimal:
        return entry.amount if entry.kind == K.EARNINGS else abs(entry.amount)

    @staticmethod
    def resolve_direction(entry: RoyaltyLedgerEntry) -> str | None:
        if entry.kind == K.RECOUPMENT or not entry.amount:
            return None
        return "credit" if entry.amount > 0 else "debit"

    @staticmethod
    def resolve_balance_effect(entry: RoyaltyLedgerEntry) -> Decimal:
        return Decimal(0) if entry.kind == K.RECOUPMENT else entry.amount


# --- catalogue and unmatched income --------------------------------------------------------------


class ReleaseOut(Schema):
    id: int
    upc: str
    title: str
    artists: str
    label: str


class TrackOut(Schema):
    id: int
    isrc: str
    title: str
    artists: str
    release: int | None = Field(validation_alias="release_id")


Scope = Literal[tuple(LabelIncome.Scope.values)]


class ScopeIn(Schema):
    contract: int
    scope: Scope = Field(description="isrc, upc or artist.")
    value: Text = Field(min_length=1, max_length=500)


class ScopeAdded(Schema):
    added: bool = Field(description="False when the contract already covered it.")
    contract: ContractOut


class LabelIncomeIn(Schema):
    scope: Scope
    value: Text = Field(min_length=1, max_length=500)
    note: Text = Field("", max_length=300)


class LabelIncomeOut(Schema):
    id: int
    scope: str
    value: str
    note: str
    created_at: dt.datetime
