"""DDEX DSR flat files (Digital Sales Report Message Suite), read as the standard defines them.

A DSR file is tab separated, one record per line, the record type in the first cell:

    HEAD                      one header (profile, version, file n of m, usage period, sender)
    SYxx …                    summary records: the sales context (commercial model, use type,
                              territory, currency) and, in Basic Audio, the money
    blocks                    RE/AS/MW/RU records describing releases and resources, then the
                              SU usage records pointing at a summary, LI licensor records after
                              their SU record
    FOOT                      one footer: counts of lines, summary records and blocks

The single-record block variants (`…SRB` profiles) replace the blocks by one SRxx record per sales
line carrying release, resource and usages, between SRHE and SRFO.

Lines starting with `#` are comments; a comment whose first cell is `#` + a record type names the
columns of that record type (`#SU02.02<TAB>BlockId<TAB>SummaryRecordId…`). Columns are read by
those names; where a file has no heading row for a record type, by the column order the standard
publishes for it (`PUBLISHED`, from the profile XSDs of ddexnet/dsrf and Part 8 of the standard).

Revenue of a usage line, by the revenue basis asked for (`BASES`; docs/sales-reports.md quotes the
DDEX definitions), in this order:
1. the sum of the basis's column of the LI records that follow it (UGC): AllocatedNetRevenue
   (`allocated_net_revenue`, the default) or AllocatedAmount (`allocated_amount`); the
   `usage_net_revenue` and `net_revenue` bases read no LI record, else
2. the NetRevenue on the usage record itself (UGC SU03), else
3. its share of the summary record's money (Basic Audio, Audio-Visual): the summary's
   AllocatedNetRevenue over its AllocatedUsages where the summary carries both (a rights
   controller's share) and the basis is not `usage_net_revenue`/`net_revenue`, otherwise its
   NetRevenue over its (Total)Usages. Each line gets
   money * usages / summary usages, by cumulative rounding to 16 decimal places (or as many as
   the summary's money has, if more) in file order: line i gets round(M * C_i / U) -
   round(M * C_(i-1) / U) with C_i the usages so far. Each share is within 10^-16 of the exact
   one and, when the lines' usages add up to the summary's, the lines add up to the summary's
   money to the last digit. Streaming: one running total per summary.
   A summary id used by several summary records (UGC: one per rights controller) gives the
   sales context only; lines that would need its money are rejected as ambiguous.

The file checks itself: FOOT's counts and, for each summary whose money the lines share, its
usages against theirs; a mismatch is a warning in `Stats.warnings`. A file without FOOT is truncated: a fatal problem.
A line whose usages and money read is never rejected for its metadata: a territory that names no
country is unknown (`ZZ`, through the cleaning's sourced table of variants), a malformed ISRC or
ICPN, a text over its length and a missing display artist are left empty; each distinct case is
one warning with its count of lines. Amounts keep every digit the file has. A rejected usage line
carries its money where it reads (its LI records' or its own NetRevenue) for the reconciliation.

A multi-part message (HEAD FileNumber/NumberOfFiles) repeats HEAD, the summaries and FOOT in each
part; each part is one upload, so a part's lines carry their share of the message's money.
"""

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import TypeVar

import pycountry

from project.money import EXACT, exact_text
from statements.cleaners import profiles as rules
from statements.cleaners.base import Problem, Reject, Row, Stats
from statements.texts import fatal, nested, reject, rejected

MAX_TEXT = 500
MAX_DSP = 200
SHARE_DECIMALS = 16  # decimal places of a share of a summary's money (at least)
MAX_NUMBER = 100  # characters of an amount
UNITS_LIMIT = 2**63
MAX_SUMMARIES = 100_000  # summary records kept in memory to resolve usage lines
MAX_BLOCK_RECORDS = 10_000  # release/resource records kept for the current block
MAX_HEADINGS = 1_000  # heading rows remembered (a file has one per record type)
MAX_WARNINGS = 20  # summary checks listed one by one; the rest are counted
CACHE_SIZE = 50_000
_ISRC = re.compile(r"[A-Z]{2}[A-Z0-9]{3}[0-9]{7}")
_DATE = re.compile(r"(\d{4})-(\d{2})(?:-\d{2})?")
_DECIMAL = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")
# Revenue bases: which column is a line's income (see the module docstring).
ALLOCATED_AMOUNT = "allocated_amount"
ALLOCATED_NET_REVENUE = "allocated_net_revenue"
USAGE_NET_REVENUE = "usage_net_revenue"
NET_REVENUE = "net_revenue"
BASES = (ALLOCATED_NET_REVENUE, ALLOCATED_AMOUNT, USAGE_NET_REVENUE, NET_REVENUE)
DEFAULT_BASIS = ALLOCATED_NET_REVENUE
ANY_PROFILE = "*"
# Basis → (our LI/SR field read first, its DDEX column name); None: only the DSP's NetRevenue.
_ALLOCATION = {
    ALLOCATED_NET_REVENUE: ("allocated", "AllocatedNetRevenue"),
    ALLOCATED_AMOUNT: ("allocated_amount", "AllocatedAmount"),
    USAGE_NET_REVENUE: None,
    NET_REVENUE: None,
}

# The standard's published column order per record type (RecordType first), used only for a
# record type the file gives no heading row for. A version not listed falls back to the latest
# listed version of the same record type.
_HEAD = "HEAD MessageVersion Profile ProfileVersion MessageId MessageCreatedDateTime FileNumber NumberOfFiles UsageStartDate UsageEndDate SenderPartyId SenderName ServiceDescription RecipientPartyId RecipientName RepresentedRepertoire"
_FOOT = "FOOT NumberOfLinesInFile NumberOfLinesInReport NumberOfSummaryRecords NumberOfBlocksInFile NumberOfBlocksInReport"
_SY_CONTEXT = "SummaryRecordId DistributionChannel DistributionChannelDPID CommercialModel UseType Territory ServiceDescription"
_SY01 = f"{_SY_CONTEXT} Usages Subscribers Currency NetRevenue IndirectNetRevenue"
_SY01_2 = f"{_SY_CONTEXT} Usages Subscribers CurrencyOfReporting NetRevenue IndirectNetRevenue CurrencyOfTransaction ExchangeRate"
_SY02 = f"{_SY_CONTEXT} Usages Users Currency NetRevenue RightsController RightsControllerPartyId AllocatedUsages AmountPayable AllocatedNetRevenue"
_SY02_1 = f"{_SY_CONTEXT} Usages Users Currency NetRevenue RightsController RightsControllerPartyId AllocatedUsages AllocatedRevenue AllocatedNetRevenue RightsType"
_SY02_2 = f"{_SY_CONTEXT} Usages Users CurrencyOfReporting NetRevenue RightsController RightsControllerPartyId AllocatedUsages AllocatedRevenue AllocatedNetRevenue RightsType ContentCategory CurrencyOfTransaction ExchangeRate RightsTypePercentage"
_SY03 = f"{_SY_CONTEXT} Usages Subscribers Currency NetRevenue RightsController RightsControllerPartyId AllocatedUsages AllocatedRevenue AllocatedNetRevenue RightsControllerMarketShare ConsumerPaidUnitPrice FreeOrTrialSubscribers ExchangeRateBaseCurrency ExchangeRate"
_SY03_1 = f"{_SY_CONTEXT} TotalUsages Subscribers CurrencyOfReporting NetRevenue RightsController RightsControllerPartyId AllocatedUsages AllocatedRevenue AllocatedNetRevenue RightsControllerMarketShare ConsumerPaidUnitPrice FreeOrTrialSubscribers CurrencyOfTransaction ExchangeRate SubscriberType"
_SY04 = f"{_SY_CONTEXT} SubscriberType Subscribers SubPeriodStartDate SubPeriodEndDate UsagesInSubPeriod UsagesInReportingPeriod Currency ExchangeRateBaseCurrency ExchangeRate ConsumerPaidUnitPrice NetRevenue"
_SY04_1 = f"{_SY_CONTEXT} SubscriberType Subscribers SubPeriodStartDate SubPeriodEndDate UsagesInSubPeriod UsagesInReportingPeriod CurrencyOfReporting CurrencyOfTransaction ExchangeRate ConsumerPaidUnitPrice NetRevenue MusicUsagePercentage"
_SY05 = f"{_SY_CONTEXT} RightsController RightsControllerPartyId RightsType TotalUsages AllocatedUsages MusicUsageRatio AllocatedRevenue AllocatedNetRevenue RightsControllerMarketShare"
_SY05_2 = f"{_SY_CONTEXT} RightsController RightsControllerPartyId RightsType TotalUsages AllocatedUsages MusicUsageRatio AllocatedNetRevenue AllocatedRevenue RightsControllerMarketShare CurrencyOfReporting CurrencyOfTransaction ExchangeRate SubscriberType SubPeriodStartDate SubPeriodEndDate ContentCategory RightsTypePercentage"
_SY05_3 = f"{_SY_CONTEXT} RightsController RightsControllerPartyId RightsType TotalUsages AllocatedUsages MusicUsagePercentage AllocatedNetRevenue AllocatedRevenue RightsControllerMarketShare CurrencyOfReporting CurrencyOfTransaction ExchangeRate DeprecatedCell SubPeriodStartDate SubPeriodEndDate ContentCategory RightsTypePercentage ParentSummaryRecordId"
_SY06 = f"{_SY_CONTEXT} Usages Subscribers Currency NumberOfReleases NetRevenue IndirectNetRevenue PreviewAvailable"
_SY06_1 = f"{_SY_CONTEXT} Usages Subscribers CurrencyOfReporting NumberOfReleases NetRevenue IndirectNetRevenue PreviewAvailable CurrencyOfTransaction ExchangeRate ViewingHours"
_SY07 = "SummaryRecordId DistributionChannel DistributionChannelDPID CommercialModel UseType Territory RightsType ServiceDescription Usages Users Currency NetRevenue RightsController RightsControllerPartyId AllocatedUsages AllocatedRevenue AllocatedNetRevenue"
_RE01 = "BlockId ReleaseReference DspReleaseId ProprietaryReleaseId CatalogNumber ICPN DisplayArtistName DisplayArtistPartyId Title SubTitle ReleaseType Label PLine DataProvider ReleaseDate"
_RE02 = "BlockId ReleaseReference DspSubReleaseId ProprietarySubReleaseId UsedResources"
_RE03 = "BlockId ReleaseReference DspReleaseId ProprietaryReleaseId ICPN Title SubTitle SeriesTitle SeasonNumber DisplayArtistName DisplayArtistPartyId ReleaseType DataProvider VideoCategory EpisodeNumber UserChannelName"
_AS01 = "BlockId ResourceReference DspResourceId ISRC Title SubTitle DisplayArtistName DisplayArtistPartyId Duration ResourceType IsMasterRecording"
_AS02 = "BlockId ResourceReference DspResourceId ISRC Title SubTitle DisplayArtistName DisplayArtistPartyId Duration ResourceType ISWC ComposerAuthor ComposerAuthorPartyId Arranger ArrangerPartyId MusicPublisher MusicPublisherPartyId WorkContributor WorkContributorPartyId ProprietaryWorkId IsMasterRecording"
_AS03 = "BlockId ResourceReference DspResourceId ISAN EIDR ProprietaryId VideoType Title SubTitle OriginalTitle SeasonNumber EpisodeNumber Genre Duration ProducerName ProducerPartyId DirectorName DirectorPartyId ActorName ActorPartyId"
_SU01 = "BlockId SummaryRecordId SalesTransactionId TransactedRelease TransactedResource IsRoyaltyBearing SalesUpgrade Usages Returns PriceConsumerPaidExcSalesTax PromotionalActivity UseType"
_SU02 = "BlockId SummaryRecordId SalesTransactionId TransactedRelease TransactedResource IsRoyaltyBearing NumberOfStreams PriceConsumerPaidExcSalesTax PromotionalActivity UseType"
_SU03 = "BlockId SalesTransactionId SummaryRecordId DspReleaseId Usages NetRevenue ValidityPeriodStart ValidityPeriodEnd"
_SU03_2 = "BlockId SalesTransactionId SummaryRecordId DspResourceId Usages NetRevenue ValidityPeriodStart ValidityPeriodEnd ContentCategory IsRoyaltyBearing"
# SU03.03 (Part 8, 2025) puts SummaryRecordId before SalesTransactionId.
_SU03_3 = "BlockId SummaryRecordId SalesTransactionId DspResourceId Usages NetRevenue"
_SU04 = "BlockId SummaryRecordId SalesTransactionId TransactedRelease TransactedResource DrmEnforcementType VideoDefinitionType CodingType BitRate OriginalBroadcastChannel OriginalBroadcastDateTime IsRoyaltyBearing SalesUpgrade Usages Returns DurationUsed PriceConsumerPaidExcSalesTax PromotionalActivity OfferStartDate OfferEndDate OfferURL"
_SU04_2 = f"{_SU04} OriginalBroadcastDateTime UseType"
_LI01 = "BlockId SummaryRecordId RightsController RightsControllerPartyId RightsControllerWorkId RightSharePercentage RightsType AllocatedNetRevenue AllocatedAmount AllocatedUsages ParentSalesTransactionId LicensorDataRecordId"
_RU01 = "BlockId SummaryRecordId DspReleaseId Usages ContentCategory"
_RU02 = "BlockId SummaryRecordId DspReleaseId ReleaseTitle ReleaseURL Usages ContentCategory"
# Single-record block variants (…SRB profiles): one record per sales line.
_SR01 = (
    "SummaryRecordId DspResourceId ISRC ResourceTitle ResourceSubTitle ResourceDisplayArtistName "
    "ResourceDisplayArtistPartyId Duration ResourceType ProprietaryWorkId ISWC ComposerAuthor "
    "ComposerAuthorPartyId Arranger ArrangerPartyId MusicPublisher MusicPublisherPartyId "
    "WorkContributor WorkContributorPartyId DspReleaseId ProprietaryReleaseId ReleaseCatalogNumber "
    "ICPN ReleaseDisplayArtistName ReleaseDisplayArtistPartyId ReleaseTitle ReleaseSubTitle "
    "ReleaseType ReleaseLabel PLine ReleaseDataProvider NumberOfTransactedResources "
    "SalesTransactionId IsRoyaltyBearing SalesUpgrade Downloads Returns PriceConsumerPaidExcSalesTax "
    "CalculatedPriceConsumerPaidForResourceExcSalesTax PromotionalActivity"
)
_SR02 = (
    "SummaryRecordId DspResourceId ISRC ResourceTitle ResourceSubTitle ResourceDisplayArtistName "
    "ResourceDisplayArtistPartyId Duration ResourceType ProprietaryWorkId ISWC ComposerAuthor "
    "ComposerAuthorPartyId Arranger ArrangerPartyId MusicPublisher MusicPublisherPartyId "
    "WorkContributor WorkContributorPartyId DspReleaseId ProprietaryReleaseId ReleaseCatalogNumber "
    "ICPN ReleaseDisplayArtistName ReleaseDisplayArtistPartyId ReleaseTitle ReleaseSubTitle "
    "ReleaseType ReleaseLabel PLine ReleaseDataProvider SalesTransactionId IsRoyaltyBearing "
    "NumberOfStreams PromotionalActivity"
)
_SR03 = (
    "SummaryRecordId DspResourceId ISRC ResourceTitle ResourceSubTitle ResourceDisplayArtistName "
    "ResourceDisplayArtistPartyId Duration ResourceType WorkTitle DspWorkId ISWC ComposerAuthor "
    "ComposerAuthorPartyId Arranger ArrangerPartyId MusicPublisher MusicPublisherPartyId "
    "WorkContributor WorkContributorPartyId DspReleaseId ProprietaryReleaseId CatalogNumber ICPN "
    "ReleaseDisplayArtistName ReleaseDisplayArtistPartyId ReleaseTitle ReleaseSubTitle ReleaseLabel "
    "PLine SalesTransactionId Usages NetRevenue ValidityPeriodStart ValidityPeriodEnd ContentCategory "
    "RightsController RightsControllerPartyId RightsControllerWorkId RightSharePercentage RightsType "
    "AllocatedNetRevenue AllocatedAmount AllocatedUsages AllocatedNetUsage"
)
_SR04 = (
    "SummaryRecordId DspResourceId ISAN EIDR ProprietaryResourceId VideoType ResourceTitle "
    "ResourceSubTitle ResourceOriginalTitle EpisodeNumber SeasonNumber Genre Duration "
    "ResourceDisplayArtistName ResourceDisplayArtistPartyId ProducerName ProducerPartyId DirectorName "
    "DirectorPartyId ActorName ActorPartyId ProductionCompanyName ProductionCompanyPartyId "
    "LanguageLocalizationType HasCaptioning HasAudioDescription OriginalLanguageOfPerformance "
    "LanguageOfDubbing DateOfProductionOrRelease CountryOfProduction OriginalBroadcastChannel "
    "OriginalBroadcastDateTime DspReleaseId ProprietaryReleaseId ICPN ReleaseTitle ReleaseSubTitle "
    "SeriesTitle ReleaseType DataProvider VideoCategory SalesTransactionId DrmEnforcement "
    "VideoDefinitionType CodingType BitRate IsRoyaltyBearing Downloads Returns "
    "PriceConsumerPaidExcSalesTax PromotionalActivity"
)
_SR05 = (
    "SummaryRecordId DspResourceId ISAN EIDR ProprietaryResourceId VideoType ResourceTitle "
    "ResourceSubTitle ResourceOriginalTitle EpisodeNumber SeasonNumber Genre Duration "
    "ResourceDisplayArtistName ResourceDisplayArtistPartyId ProducerName ProducerPartyId DirectorName "
    "DirectorPartyId ActorName ActorPartyId ProductionCompanyName ProductionCompanyPartyId "
    "LanguageLocalizationType HasCaptioning HasAudioDescription OriginalLanguageOfPerformance "
    "LanguageOfDubbing DateOfProductionOrRelease CountryOfProduction OriginalBroadcastChannel "
    "OriginalBroadcastDateTime DspReleaseId ProprietaryReleaseId ICPN ReleaseTitle ReleaseSubTitle "
    "SeriesTitle ReleaseType DataProvider VideoCategory SalesTransactionId VideoDefinitionType "
    "CodingType BitRate IsRoyaltyBearing NumberOfStreams PromotionalActivity"
)
_SR06 = (
    "SummaryRecordId DspResourceId ISRC ResourceTitle ResourceSubTitle ResourceDisplayArtistName "
    "ResourceDisplayArtistPartyId WorkTitle DspWorkId ISWC ComposerAuthor ComposerAuthorPartyId "
    "Usages ValidityPeriodStart ValidityPeriodEnd ContentCategory RightsController "
    "RightsControllerPartyId RightsControllerWorkId RightSharePercentage RightsType AllocatedAmount "
    "AllocatedNetUsage"
)
PUBLISHED: dict[str, str] = {
    "SRHE": "SRHE" + _HEAD[4:],
    "SRFO": "SRFO NumberOfLinesInReport NumberOfSummaryRecords",
    "SR01": _SR01,
    "SR02": _SR02,
    "SR03": _SR03,
    "SR04": _SR04,
    "SR05": _SR05,
    "SR06": _SR06,
    "HEAD": _HEAD,
    "FOOT": _FOOT,
    "SY01": _SY01,
    "SY01.01": _SY01_2,
    "SY01.02": _SY01_2,
    "SY02": _SY02,
    "SY02.01": _SY02_1,
    "SY02.02": _SY02_2,
    "SY02.03": _SY02_2,
    "SY03": _SY03,
    "SY03.01": _SY03_1,
    "SY04": _SY04,
    "SY04.01": _SY04_1,
    "SY04.02": _SY04_1,
    "SY05": _SY05,
    "SY05.01": _SY05,
    "SY05.02": _SY05_2,
    "SY05.03": _SY05_3,
    "SY06": _SY06,
    "SY06.01": _SY06_1,
    "SY06.02": _SY06_1,
    "SY07": _SY07,
    "SY07.01": _SY07,
    "RE01": _RE01,
    "RE01.01": _RE01,
    "RE01.02": _RE01,
    "RE02": _RE02,
    # The records for the Mechanical Licensing Collective (RE04, AS05, AS06) keep the cells read
    # here where RE01 and AS01 have them, and append the rest.
    "RE04": _RE01,
    "AS05": _AS01,
    "AS06": _AS01,
    "RE03": _RE03,
    "RE03.01": _RE03,
    "RE03.02": _RE03,
    "AS01": _AS01,
    "AS01.01": _AS01,
    "AS01.02": _AS01,
    "AS02": _AS02,
    "AS02.01": _AS02,
    "AS02.02": _AS02,
    "AS02.03": _AS02,
    "AS03": _AS03,
    "AS03.01": _AS03,
    "AS03.02": _AS03,
    "SU01": _SU01,
    "SU01.01": _SU01,
    "SU01.02": _SU01,
    "SU02": _SU02,
    "SU02.01": _SU02,
    "SU02.02": _SU02,
    "SU03": _SU03,
    "SU03.01": _SU03,
    "SU03.02": _SU03_2,
    "SU03.03": _SU03_3,
    "SU04": _SU04,
    "SU04.01": _SU04,
    "SU04.02": _SU04_2,
    "LI01": _LI01,
    "LI01.01": _LI01,
    "LI01.02": _LI01,
    "LI01.03": _LI01,
    "RU01": _RU01,
    "RU01.01": _RU01,
    "RU01.02": _RU01,
    "RU02": _RU02,
    "RU02.01": _RU02,
    "RU02.02": _RU02,
}

# What we read from each family of record types: our name → the column names the standard's
# versions use for it (compared case-insensitively, ignoring non-alphanumerics).
_FIELDS: dict[str, dict[str, tuple[str, ...]]] = {
    "HEAD": {
        "profile": ("Profile",),
        "version": ("ProfileVersion",),
        "file_number": ("FileNumber",),
        "files": ("NumberOfFiles",),
        "start": ("UsageStartDate",),
        "sender": ("SenderName",),
        "service": ("ServiceDescription",),
        "sender_id": ("SenderPartyId",),
    },
    "FOOT": {
        "lines": ("NumberOfLinesInFile",),
        "report_lines": ("NumberOfLinesInReport",),
        "summaries": ("NumberOfSummaryRecords",),
        "blocks": ("NumberOfBlocksInFile",),
        "report_blocks": ("NumberOfBlocksInReport", "NumberOfBlocksInRecord"),
    },
    "SY": {
        "id": ("SummaryRecordId",),
        "model": ("CommercialModel", "CommercialModelType"),
        "use": ("UseType",),
        "territory": ("Territory",),
        "usages": (
            "TotalUsages",
            "Usages",
            "NumberOfUsages",
            "UsagesInReportingPeriod",
            "TotalUsagesInReportingPeriod",
        ),
        "currency": ("Currency", "CurrencyOfReporting", "CurrencyOfAccounting"),
        "revenue": ("NetRevenue", "NetRevenueInCurrencyOfAccounting"),
        "allocated_usages": ("AllocatedUsages",),
        "allocated_revenue": ("AllocatedNetRevenue", "AllocatedNetRevenueInCurrencyOfAccounting"),
    },
    "RE": {
        "block": ("BlockId",),
        "ref": ("ReleaseReference",),
        "icpn": ("ICPN", "ReleaseICPN"),
        "artist": ("DisplayArtistName", "ReleaseDisplayArtistName"),
        "title": ("Title", "ReleaseTitle"),
        "used": ("UsedResources",),
    },
    "AS": {
        "block": ("BlockId",),
        "ref": ("ResourceReference",),
        "dsp_id": ("DspResourceId",),
        "isrc": ("ISRC", "ResourceISRC"),
        "title": ("Title", "ResourceTitle"),
        "artist": ("DisplayArtistName", "ResourceDisplayArtistName"),
    },
    "SU": {
        "block": ("BlockId",),
        "summary": ("SummaryRecordId",),
        "release": ("TransactedRelease",),
        "resource": ("TransactedResource",),
        "dsp_id": ("DspResourceId", "DspReleaseId"),
        "usages": ("Usages", "NumberOfStreams", "Downloads", "NumberOfUsages"),
        "returns": ("Returns",),
        "use": ("UseType",),
        "revenue": ("NetRevenue",),
    },
    "LI": {
        "block": ("BlockId",),
        "allocated": ("AllocatedNetRevenue",),
        "allocated_amount": ("AllocatedAmount",),
    },
    "SR": {
        "summary": ("SummaryRecordId",),
        "isrc": ("ISRC", "ResourceISRC"),
        "title": ("ResourceTitle",),
        "artist": ("ResourceDisplayArtistName",),
        "icpn": ("ICPN", "ReleaseICPN"),
        "release_title": ("ReleaseTitle",),
        "release_artist": ("ReleaseDisplayArtistName",),
        "usages": ("Downloads", "NumberOfStreams", "Usages"),
        "returns": ("Returns",),
        "use": ("UseType",),
        "revenue": ("NetRevenue",),
        "allocated": ("AllocatedNetRevenue",),
        "allocated_amount": ("AllocatedAmount",),
    },
}
_DECLARED = {"lines": "lines", "summaries": "summary_records", "blocks": "blocks"}  # FOOT → Stats.declared
_SU_ORDER = ("block", "summary", "release", "resource", "dsp_id", "usages", "returns", "use", "revenue")
_KEEP = {"HEAD", "FOOT", "SY", "RE", "AS", "SU", "LI", "SR"}  # families read; others are descriptive


def _norm(name: str) -> str:
    return "".join(c for c in name.lower() if c.isalnum())


_ALIASES = {
    family: {_norm(alias): key for key, aliases in fields.items() for alias in aliases}
    for family, fields in _FIELDS.items()
}


def _family(kind: str) -> str:
    return _HEADER_FOOTER.get(kind) or kind[:2]


_HEADER_FOOTER = {"HEAD": "HEAD", "SRHE": "HEAD", "FOOT": "FOOT", "SRFO": "FOOT"}


def _layout(family: str, names: list[str]) -> dict[str, int]:
    """Our field → cell index, from the record's column names (names[0] is RecordType)."""
    aliases = _ALIASES[family]
    found: dict[str, int] = {}
    for index, name in enumerate(names):
        key = aliases.get(_norm(name))
        if key is not None and key not in found:
            found[key] = index
    return found


def _published(kind: str) -> list[str] | None:
    names = PUBLISHED.get(kind)
    if names is None:
        base = kind[:4]
        versions = sorted(k for k in PUBLISHED if k[:4] == base)
        if not versions:
            return None
        names = PUBLISHED[versions[-1]]
    return ["RecordType", *names.split()] if not names.startswith(kind[:4]) else names.split()


def looks_like_dsr(first_lines: list[str]) -> bool:
    """Whether the first lines are a DSR flat file: a HEAD record first, after any comments."""
    for raw in first_lines:
        line = raw.lstrip("\ufeff").rstrip("\r\n")
        if line.startswith(("#HEAD\t", "#SRHE\t")):
            return True
        if not line.strip() or line.startswith("#"):
            continue
        return line.startswith(("HEAD\t", "SRHE\t"))
    return False


@dataclass(slots=True)
class _Summary:
    line: int
    territory: str
    currency: str
    model: str
    use: str
    money: Decimal | None  # what its usage lines share (None: the lines carry their own)
    usages: int | None  # the usages that money is for
    error: Reject | None = None
    repeated: bool = False  # several summary records with this id: no allocation from it
    scale: int = SHARE_DECIMALS  # decimal places of its lines' shares
    scaled: int = 0  # money in units of 10^-scale
    lines_usages: int = 0  # usages of the usage lines pointing at it, so far
    allocated: int = 0  # money given to those lines so far, in units of 10^-scale
    note: str = ""  # what its lines are kept without (a territory that names no country)
    used: bool = False  # usage lines point at it
    shared: bool = False  # its money was shared out to usage lines
    kind: tuple[str, str] = ("", "other")  # (use type, our sale type) of lines that name none


@dataclass(slots=True)
class _Resource:
    isrc: str
    title: str
    artist: str
    notes: tuple[str, ...] = ()  # metadata left empty (see `_kept`)


@dataclass(slots=True)
class _Release:
    icpn: str
    title: str
    artist: str
    used: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


# What a usage line's resource and releases give its row: (display artist, ISRC, ICPN, resource
# title, release title, metadata left empty).
_Subject = tuple[str, str, str, str, str, tuple[str, ...]]


class _Block:
    """The releases and resources of the current block (a bounded, per-block memory)."""

    __slots__ = ("head_release", "id", "releases", "resources", "size", "subjects")

    def __init__(self, block_id: str):
        self.id = block_id
        self.releases: dict[str, _Release] = {}
        self.resources: dict[str, _Resource] = {}
        self.head_release: _Release | None = None
        self.size = 0
        # (TransactedRelease, TransactedResource, DSP id) of a usage → what it describes (see
        # `_Parser._subject`); emptied when a record adds to the block.
        self.subjects: dict[tuple[str, str, str], _Subject] = {}


def bases_by_profile(setting: str) -> dict[str, str]:
    """The installation's default revenue bases: `allocated_amount` (every DSR profile's) or
    `UgcProfile=allocated_amount,BasicAudioProfile=net_revenue,*=allocated_net_revenue` (per HEAD
    Profile, case aside; `*` the others') → {profile in lower case or "*": basis}; a profile not
    named takes `*`, else DEFAULT_BASIS. Raises ValueError naming an unknown basis."""
    bases: dict[str, str] = {}
    for item in filter(None, (part.strip() for part in setting.split(","))):
        profile, _, basis = item.rpartition("=")
        basis = basis.strip()
        if basis not in _ALLOCATION:
            raise ValueError(f"unknown DSR revenue basis {basis!r} (bases: {', '.join(BASES)})")
        bases[profile.strip().lower() or ANY_PROFILE] = basis
    return bases


def parse_dsr(
    lines: Iterator[str], stats: Stats, basis: str = "", defaults: dict[str, str] | None = None
) -> Iterator[Row | Problem]:
    """Normalised rows (CLEAN_COLUMNS order) and rejected lines of a DSR file, in file order, with
    the revenue `basis` (one of `BASES`) as each line's income; blank: the one `defaults`
    (`bases_by_profile`) gives the file's HEAD Profile. `stats.revenue_basis` says which was used."""
    if basis and basis not in _ALLOCATION:
        raise ValueError(f"unknown DSR revenue basis {basis!r}")
    try:
        yield from _Parser(stats, basis, defaults or {}).run(lines)
    except Exception as exc:  # the parser must never raise: an unforeseen failure fails the file
        yield Problem(stats.lines + 1, f"unreadable DSR file: {exc}", fatal=True)


class _Parser:
    def __init__(self, stats: Stats, basis: str = "", defaults: dict[str, str] | None = None):
        self.stats = stats
        self.basis = basis
        self.defaults = defaults or {}
        stats.revenue_basis = basis or DEFAULT_BASIS  # settled by the HEAD's Profile when blank
        self.allocation = _ALLOCATION[stats.revenue_basis]  # (LI/SR field, column), None: NetRevenue
        self.fallbacks = 0  # lines whose LI records (if any) did not carry the basis's column
        self.headings: dict[str, list[str]] = {}
        self.layouts: dict[str, tuple[str, dict[str, int]] | None] = {}
        self.summaries: dict[str, _Summary] = {}
        self.summary_records = 0
        self.blocks = 0
        self.block: _Block | None = None
        self.pending: list | None = None  # the usage line waiting for its LI records
        self.usage_layouts: dict[str, tuple[int, ...]] = {}  # usage record type → `_usage` index
        # The usage line just rejected, whose LI records follow: [line, reason, currency,
        # NetRevenue, LI amount] (its money, where it reads, goes with its problem).
        self.rejected: list | None = None
        self.kept: dict[str, int] = {}  # metadata left empty → lines kept without it
        self.period = ""
        self.dsp = ""
        self.files = 1
        self.file_number = 1
        self.head_seen = False
        self.foot: dict[str, str] | None = None
        self.territories: dict[str, str] = {}
        self.currencies: dict[str, str] = {}
        self.isrcs: dict[str, str] = {}
        self.icpns: dict[str, str] = {}
        self.texts: dict[str, str] = {}
        self.shares: dict[int, str] = {}  # a share in units of 10^-SHARE_DECIMALS → its text
        self.uses: dict[str, tuple[str, str]] = {}

    # --- the main loop -------------------------------------------------------------------------
    def run(self, lines: Iterator[str]) -> Iterator[Row | Problem]:
        stats = self.stats
        usage_layouts = self.usage_layouts
        number = 0
        for number, raw in enumerate(lines, start=1):
            stats.lines = number
            line = raw.rstrip("\r\n")
            cells = line.split("\t")
            # Usage records are nearly every line of a file: once their record type's layout is
            # known, they skip the checks and the dispatch below.
            index = usage_layouts.get(cells[0])
            if index is None:
                if number == 1:
                    line = line.lstrip("\ufeff")
                    cells = line.split("\t")
                if self.foot is not None:
                    if line.startswith(("HEAD\t", "SRHE\t")):
                        yield fatal(number, "dsr_second_head")
                        return
                    if line.strip():
                        yield rejected(number, "line_after_foot")
                    else:
                        stats.structural += 1
                    continue
                if not line or line[0] == "#":
                    # Comments, heading rows and empty records (Part 1: counted in FOOT, ignored).
                    stats.structural += 1
                    if line.startswith("#") and "\t" in line and len(self.headings) < MAX_HEADINGS:
                        self.headings[cells[0][1:].strip()] = cells
                        self.layouts.clear()
                        usage_layouts.clear()
                    continue
                kind = cells[0].strip()
                if not self.head_seen:
                    if kind not in ("HEAD", "SRHE"):
                        yield fatal(number, "dsr_no_head", kind=repr(kind[:20]))
                        return
                    wrong = self._head(kind, cells)
                    if wrong is not None:
                        yield fatal(number, wrong[0], **wrong[1])
                        return
                    stats.structural += 1
                    continue
                layout = self._layout_of(kind)
                family = layout[0] if layout else ""
                if family == "SU":
                    index = layout[1]
                    if kind == cells[0]:
                        usage_layouts[kind] = index
                else:
                    if family != "LI" and (self.pending is not None or self.rejected is not None):
                        yield self._flush()
                    if family in ("LI", "SY", "RE", "AS"):
                        # A record that describes (or, LI, pays) sales: a Problem, or None when read.
                        if family == "LI":
                            item = self._licensor(number, cells, layout[1])
                        elif family == "SY":
                            item = self._summary(number, cells, layout[1])
                        else:
                            item = self._describe(number, family, cells, layout[1])
                        if item is None:
                            stats.structural += 1
                        else:
                            yield item
                            if item.fatal:
                                return
                    elif family == "SR":
                        yield self._single(number, cells, layout[1])
                    elif family == "FOOT":
                        self.foot = self._cells(cells, layout[1])
                        usage_layouts.clear()  # what follows FOOT is no usage
                        stats.structural += 1
                        self._check_foot(number, single_record=kind == "SRFO")
                    elif family == "HEAD":
                        yield fatal(number, "dsr_second_head")
                        return
                    elif kind[:2] in ("SU", "SR", "LI"):
                        yield Problem(
                            number, f"{kind[:20]} records are not supported: their sales were not imported"
                        )
                    else:
                        # Records that only describe (MW, RU, CU, RE02 …) and unknown records, which
                        # Part 1 of the standard says a recipient ignores.
                        if kind[:2] in ("RE", "AS", "MW", "RU", "CU", "ML", "RC", "ST"):
                            self._enter_block(cells[1] if len(cells) > 1 else "")
                        stats.structural += 1
                    continue
            # A usage record: its row (or problem) waits for the LI records that may follow it.
            if self.pending is not None:
                yield self._finish(self.pending)
                self.pending = None
            elif self.rejected is not None:
                yield self._flush()
            self._usage(number, cells, index)
        if self.pending is not None or self.rejected is not None:
            yield self._flush()
        if not self.head_seen:
            yield fatal(max(number, 1), "dsr_empty")
        elif self.foot is None:
            yield fatal(number + 1, "dsr_truncated")
        else:
            self._check_summaries()
            if self.fallbacks:
                self.stats.warnings.append(
                    f"{self.fallbacks} usage lines carry no {self.allocation[1]} (no LI record with it): "
                    "their revenue is the usage record's NetRevenue"
                )
        self.stats.warnings += [f"{what} on {count} line(s)" for what, count in self.kept.items()]

    # --- layouts -------------------------------------------------------------------------------
    def _layout_of(self, kind: str) -> tuple[str, dict[str, int]] | None:
        if kind in self.layouts:
            return self.layouts[kind]
        family = _family(kind)
        layout = None
        if family in _KEEP and len(kind) >= 4:
            names = self.headings.get(kind)
            if names is None:
                same = [cells for name, cells in self.headings.items() if name[:4] == kind[:4]]
                names = same[0] if len(same) == 1 else _published(kind)
            if names is not None:
                layout = (family, _layout(family, names))
                if family == "SU":
                    found = layout[1]
                    at = tuple(found.get(key, -1) for key in _SU_ORDER)
                    layout = (family, (*at, max(at) + 1))
                elif family == "LI":
                    layout = (family, layout[1].get(self.allocation[0], -1) if self.allocation else -1)
        if len(self.layouts) < CACHE_SIZE:
            self.layouts[kind] = layout
        return layout

    @staticmethod
    def _cells(cells: list[str], layout: dict[str, int]) -> dict[str, str]:
        size = len(cells)
        return {key: cells[index].strip() for key, index in layout.items() if index < size}

    # --- records -------------------------------------------------------------------------------
    def _head(self, kind: str, cells: list[str]) -> tuple[str, dict] | None:
        """Reads the HEAD record; what is wrong with it (a statements.texts code and parameters)."""
        layout = self._layout_of(kind)
        head = self._cells(cells, layout[1]) if layout else {}
        self.head_seen = True
        profile = _plain(head.get("profile", "")) or "unknown profile"
        version = _plain(head.get("version", ""))
        file_number, files = head.get("file_number", ""), head.get("files", "")
        self.file_number = int(file_number) if file_number.isdigit() and file_number.isascii() else 1
        self.files = int(files) if files.isdigit() and files.isascii() else 1
        detail = f"DDEX DSR {profile} {version}".strip()
        if self.files > 1:
            detail += f", file {self.file_number} of {self.files}"
        self.stats.detail = detail[:200]
        self.stats.declared.update(
            {"profile": profile[:100], "profile_version": version[:20], "file_number": self.file_number}
        )
        self.stats.declared["number_of_files"] = self.files
        if not self.basis:
            named = profile.lower()
            basis = self.defaults.get(named) or self.defaults.get(named.removesuffix("srb"))
            self.stats.revenue_basis = basis or self.defaults.get(ANY_PROFILE) or DEFAULT_BASIS
            self.allocation = _ALLOCATION[self.stats.revenue_basis]
            self.layouts.clear()  # an LI layout read before depends on the basis
        start = head.get("start", "")
        match = _DATE.fullmatch(start)
        if not match or not "01" <= match.group(2) <= "12":
            return "dsr_head_start", {"value": repr(start[:40])}
        self.period = f"{match.group(1)}-{match.group(2)}"
        dsp = head.get("sender") or head.get("service") or head.get("sender_id") or ""
        try:
            self.dsp = _text(_value(dsp), "sender name", MAX_DSP)
        except Reject as exc:
            return "dsr_head_invalid", {"error": nested(exc)}
        if not self.dsp:
            return "dsr_head_no_sender", {}
        return None

    def _summary(self, number: int, cells: list[str], layout: dict[str, int]) -> Problem | None:
        values = self._cells(cells, layout)
        self.summary_records += 1
        key = values.get("id", "")
        error = None
        raw_territory = values.get("territory", "")
        territory = _valid(self.territories, _territory, raw_territory)
        try:
            currency = _valid(self.currencies, _currency, values.get("currency", ""))
        except Reject as exc:
            error, currency = exc, ""
        try:
            money, usages = self._money(values)
        except Reject as exc:
            error = error or exc
            money = usages = None
        known = self.summaries.get(key)
        if known is not None:
            # Several summary records under one id (e.g. one per rights controller in UGC):
            # they give the context; none of them alone is the money of the lines.
            known.repeated = True
            if error:
                return rejected(number, "summary_record_invalid", id=repr(key[:40]), error=nested(error))
            return None
        if len(self.summaries) >= MAX_SUMMARIES:
            return fatal(number, "dsr_too_many_summaries", limit=MAX_SUMMARIES)
        summary = _Summary(
            number,
            territory,
            currency,
            _plain(values.get("model", ""))[:100],
            _plain(values.get("use", ""))[:100],
            money,
            usages,
            error,
        )
        if territory == rules.UNKNOWN_TERRITORY:
            summary.note = rules.unknown_territory(_unspace(raw_territory))
        if money is not None:
            summary.scale = max(SHARE_DECIMALS, -money.as_tuple().exponent)
            summary.scaled = int(money.scaleb(summary.scale, EXACT))
        summary.kind = (summary.use, _sale_type(summary.use))
        self.summaries[key] = summary
        if error:
            return rejected(number, "summary_record_invalid", id=repr(key[:40]), error=nested(error))
        return None

    def _money(self, values: dict[str, str]) -> tuple[Decimal | None, int | None]:
        """(the money a summary's usage lines share, the usages it is for)."""
        allocated, allocated_usages = values.get("allocated_revenue", ""), values.get("allocated_usages", "")
        if allocated and allocated_usages and self.allocation:
            return _decimal(allocated, "AllocatedNetRevenue"), _integer(allocated_usages, "AllocatedUsages")
        revenue, usages = values.get("revenue", ""), values.get("usages", "")
        return (
            _decimal(revenue, "NetRevenue") if revenue else None,
            _integer(usages, "Usages") if usages else None,
        )

    def _enter_block(self, block_id: str) -> _Block:
        block = self.block
        if block is None or block.id != block_id:
            block = self.block = _Block(block_id)
            self.blocks += 1
        return block

    def _describe(self, number: int, family: str, cells: list[str], layout: dict[str, int]) -> Problem | None:
        values = self._cells(cells, layout)
        block = self._enter_block(values.get("block", ""))
        block.size += 1
        block.subjects.clear()
        if block.size > MAX_BLOCK_RECORDS:
            return fatal(number, "dsr_block_too_long", block=repr(block.id[:40]), limit=MAX_BLOCK_RECORDS)
        ref = values.get("ref", "")
        if family == "AS":
            resource = self._resource(
                values.get("isrc", ""), values.get("title", ""), values.get("artist", "")
            )
            block.resources[ref] = resource
            dsp_id = values.get("dsp_id", "")
            if dsp_id and dsp_id != ref:
                block.resources.setdefault(dsp_id, resource)
            block.resources.setdefault("", resource)  # the first resource of the block
        else:
            used = tuple(v for v in _split(values.get("used", "")) if v)
            release = self._release(values.get("icpn", ""), values.get("title", ""), values.get("artist", ""))
            release.used = used
            block.releases[ref] = release
            if "used" not in layout and block.head_release is None:
                block.head_release = release
        return None

    def _resource(self, isrc: str, title: str, artist: str) -> _Resource:
        notes: list[str] = []
        return _Resource(
            _kept(self.isrcs, _isrc, notes, isrc),
            _kept(self.texts, _cell_text, notes, title, "title"),
            _kept(self.texts, _cell_text, notes, artist, "display artist"),
            tuple(notes),
        )

    def _release(self, icpn: str, title: str, artist: str) -> _Release:
        notes: list[str] = []
        return _Release(
            _kept(self.icpns, _icpn, notes, icpn),
            _kept(self.texts, _cell_text, notes, title, "release title"),
            _kept(self.texts, _cell_text, notes, artist, "display artist"),
            notes=tuple(notes),
        )

    def _usage(self, number: int, cells: list[str], index: tuple[int, ...]) -> None:
        """The usage record's row waits in `pending` for its LI records; a rejected one in `rejected`."""
        # The hot path: one call per sales line, so cells are read by position (the record's own
        # layout), with a trailing "" standing for the columns the record type does not have.
        (
            block_at,
            summary_at,
            release_at,
            resource_at,
            dsp_at,
            usages_at,
            returns_at,
            use_at,
            revenue_at,
            width,
        ) = index
        if len(cells) < width:
            cells += [""] * (width - len(cells))
        cells.append("")
        try:
            block = self.block
            if block is None or block.id != cells[block_at]:
                block = self._enter_block(cells[block_at])
            summary = self.summaries.get(cells[summary_at])
            if summary is None:
                raise reject("summary_unknown", id=repr(cells[summary_at][:40]))
            if summary.error:
                raise reject("summary_invalid", line=summary.line, error=nested(summary.error))
            raw = cells[usages_at]
            units = (
                int(raw)
                if raw.isdigit() and raw.isascii() and len(raw) < 19
                else _integer(raw, "usages", signed=True)
            )
            if cells[returns_at]:
                units -= _integer(cells[returns_at], "returns")
            revenue = cells[revenue_at]
            amount = _decimal(revenue, "NetRevenue") if revenue else None
            refs = (cells[release_at], cells[resource_at], cells[dsp_at])
            subject = block.subjects.get(refs) or self._subject(block, refs)
        except Reject as exc:
            self._reject(number, exc, cells[summary_at], cells[revenue_at], None)
            return
        summary.used = True
        summary.lines_usages += units
        use = cells[use_at]
        kind = (self.uses.get(use) or self._use(use, summary)) if use else summary.kind
        self.pending = [number, summary, units, amount, None, subject, kind]

    def _reject(
        self, number: int, exc: Reject, summary_id: str, revenue: str, allocated: Decimal | None
    ) -> None:
        """Remember a rejected usage line with its currency and its money, where they read."""
        summary = self.summaries.get(summary_id)
        try:
            amount = _decimal(revenue, "NetRevenue") if revenue else None
        except Reject:
            amount = None
        currency = summary.currency if summary is not None and summary.currency else "?"
        self.rejected = [number, exc, currency, amount, allocated]

    def _flush(self) -> Row | Problem:
        """The row (or the problem) of the usage line whose LI records are all read."""
        if self.pending is not None:
            item, self.pending = self._finish(self.pending), None
            return item
        (line, exc, currency, amount, allocated), self.rejected = self.rejected, None
        money = allocated if allocated is not None and self.allocation else amount
        if money is None:
            return Problem(line, str(exc), text=exc.text)
        return Problem(line, str(exc), False, exact_text(money), currency, text=exc.text)

    def _single(self, number: int, cells: list[str], layout: dict[str, int]) -> Row | Problem:
        """A record of a single-record block variant: release, resource and usages in one line."""
        values = self._cells(cells, layout)
        li_amount = None
        try:
            summary = self.summaries.get(values.get("summary", ""))
            if summary is None:
                raise reject("summary_unknown", id=repr(values.get("summary", "")[:40]))
            if summary.error:
                raise reject("summary_invalid", line=summary.line, error=nested(summary.error))
            units = _integer(values.get("usages", ""), "usages", signed=True)
            if values.get("returns"):
                units -= _integer(values["returns"], "returns")
            allocated = values.get(self.allocation[0], "") if self.allocation else ""
            li_amount = _decimal(allocated, self.allocation[1]) if allocated else None
            revenue = values.get("revenue", "")
            amount = _decimal(revenue, "NetRevenue") if revenue else None
        except Reject as exc:
            self._reject(number, exc, values.get("summary", ""), values.get("revenue", ""), li_amount)
            return self._flush()
        resource = self._resource(values.get("isrc", ""), values.get("title", ""), values.get("artist", ""))
        release = self._release(
            values.get("icpn", ""), values.get("release_title", ""), values.get("release_artist", "")
        )
        summary.used = True
        summary.lines_usages += units
        kind = self._use(values["use"], summary) if values.get("use") else summary.kind
        return self._finish(
            [number, summary, units, amount, li_amount, _describes(resource, release, None), kind]
        )

    def _use(self, raw: str, summary: _Summary) -> tuple[str, str]:
        """(use type, our sale type) of a usage's UseType cell; the summary's when it is blank."""
        value = _plain(raw.strip())[:100]
        if not value:
            return summary.kind
        kind = (value, _sale_type(value))
        if len(self.uses) < CACHE_SIZE:
            self.uses[raw] = kind
        return kind

    def _subject(self, block: _Block, refs: tuple[str, str, str]) -> _Subject:
        """What a usage record is about: its TransactedResource or TransactedRelease, or the
        block's own resource where the record names only DSP ids (as UGC records do), and the
        block's head release. Remembered for the block's next usage lines."""
        release_ref, resource_ref, dsp_id = refs
        release = resource = None
        if release_ref:
            release = block.releases.get(release_ref)
            if release is None:
                raise reject("release_not_described", id=repr(release_ref[:40]), block=repr(block.id[:40]))
        if resource_ref:
            resource = block.resources.get(resource_ref)
            if resource is None:
                raise reject("resource_not_described", id=repr(resource_ref[:40]), block=repr(block.id[:40]))
        elif release is not None:
            if len(release.used) == 1:
                resource = block.resources.get(release.used[0])
        else:
            resource = block.resources.get(dsp_id) or block.resources.get("")
        head = block.head_release
        if resource is None and release is None and head is None:
            raise reject("block_without_subject", block=repr(block.id[:40]))
        subject = _describes(resource, release, head)
        if len(block.subjects) < CACHE_SIZE:
            block.subjects[refs] = subject
        return subject

    def _licensor(self, number: int, cells: list[str], at: int) -> Problem | None:
        # A rejected usage line's LI records are its money: they go with its problem.
        usage = self.pending if self.pending is not None else self.rejected
        if usage is None:
            return rejected(number, "li_without_usage")
        raw = cells[at].strip() if 0 <= at < len(cells) else ""
        if not raw:
            return None
        try:
            amount = _decimal(raw, self.allocation[1] if self.allocation else "")
        except Reject as exc:
            return Problem(number, str(exc), text=exc.text)
        usage[4] = amount if usage[4] is None else EXACT.add(usage[4], amount)
        return None

    def _finish(self, usage: list) -> Row | Problem:
        line, summary, units, amount, li_amount, subject, (use, sale) = usage
        artist, isrc, icpn, title, release, notes = subject
        try:
            if li_amount is not None:
                revenue = _revenue_text(li_amount)
            elif amount is not None:
                if self.allocation:
                    self.fallbacks += 1
                revenue = _revenue_text(amount)
            else:
                revenue = self._share(summary, units)
        except Reject as exc:
            return Problem(line, str(exc), text=exc.text)
        if notes or summary.note:
            for note in (*notes, summary.note) if summary.note else notes:
                self.kept[note] = self.kept.get(note, 0) + 1
        return (
            line,
            self.period,
            self.dsp,
            artist,
            isrc,
            icpn,
            title,
            summary.territory,
            str(units),
            revenue,
            summary.currency,
            sale,
            use,
            summary.model,
            release,
        )

    def _share(self, summary: _Summary, units: int) -> str:
        """This line's share of its summary's money, as text (see the module docstring)."""
        if summary.repeated:
            raise reject("summary_repeated")
        if summary.money is None:
            raise reject("no_revenue")
        total = summary.usages
        if not total:
            if summary.money == 0:
                return "0"
            raise reject("revenue_without_usages")
        # Integer arithmetic in units of 10^-scale: exact, and much faster than Decimal.
        running, rest = divmod(summary.scaled * summary.lines_usages, total)
        if 2 * rest > total or (2 * rest == total and running & 1):
            running += 1
        share = running - summary.allocated
        summary.allocated = running
        summary.shared = True
        # Lines with the same usages in one summary get one of two shares (the cumulative rounding
        # gives the floor or the ceiling of money * usages / summary usages): their text is
        # remembered, a dict lookup instead of formatting a 16-decimal number on every line.
        if summary.scale != SHARE_DECIMALS:
            return _scaled_text(share, summary.scale)
        text = self.shares.get(share)
        return text if text is not None else _valid(self.shares, _scaled_text, share)

    # --- checks --------------------------------------------------------------------------------
    def _check_foot(self, number: int, *, single_record: bool) -> None:
        foot, declared, warnings = self.foot or {}, self.stats.declared, self.stats.warnings
        counted = {"lines": number, "summaries": self.summary_records, "blocks": self.blocks}
        labels = {
            "lines": "lines in the file",
            "summaries": "summary records",
            "blocks": "blocks in the file",
        }
        # SRFO (single-record block variants) counts only the report's lines and summary records.
        for key in ("summaries",) if single_record else ("lines", "summaries", "blocks"):
            raw = foot.get(key, "")
            if not raw:
                warnings.append(f"FOOT does not declare the number of {labels[key]}")
            elif not (raw.isdigit() and raw.isascii()):
                warnings.append(f"FOOT number of {labels[key]} {raw[:40]!r} is not a whole number")
            else:
                declared[_DECLARED[key]] = int(raw)
                if int(raw) != counted[key]:
                    warnings.append(f"FOOT declares {int(raw)} {labels[key]} but the file has {counted[key]}")
        for key, of_file in (("report_lines", "lines"), ("report_blocks", "blocks")):
            raw = foot.get(key, "")
            if raw.isdigit() and raw.isascii():
                declared[key] = int(raw)
                if self.files == 1 and int(raw) != counted[of_file]:
                    warnings.append(
                        f"FOOT declares {int(raw)} {labels[of_file].replace('file', 'report')} "
                        f"but this single-file report has {counted[of_file]}"
                    )

    def _check_summaries(self) -> None:
        """Each summary's usages against the usage lines pointing at it, and the declared totals."""
        usages, revenue, counted = 0, {}, 0
        mismatches = []
        for key, summary in self.summaries.items():
            if summary.error or summary.repeated:
                continue
            counted += 1
            if summary.usages is not None:
                usages += summary.usages
            if summary.money is not None and (summary.shared or not summary.used):
                revenue[summary.currency] = EXACT.add(
                    revenue.get(summary.currency, Decimal(0)), summary.money
                )
            # Only a summary whose money the lines share must match them: UGC summaries count the
            # whole service's usages in their context, of which the file's lines are a part.
            if summary.usages is None or (summary.used and not summary.shared):
                continue
            if not summary.used and not summary.usages:
                continue
            lines = summary.lines_usages
            # A part of a multi-file message holds only some of the message's usage lines.
            wrong = lines > summary.usages if self.files > 1 else lines != summary.usages
            if wrong:
                mismatches.append(
                    f"summary record {key[:40]!r} (line {summary.line}) declares {summary.usages} usages "
                    f"but its usage lines add up to {lines}"
                )
        self.stats.warnings.extend(mismatches[:MAX_WARNINGS])
        if len(mismatches) > MAX_WARNINGS:
            self.stats.warnings.append(
                f"… and {len(mismatches) - MAX_WARNINGS} more summary records like these"
            )
        if counted:
            # A part of a multi-file message repeats the message's summaries: its own lines hold
            # only a share of these, so they are named as the message's, not the file's, totals.
            prefix = "message_" if self.files > 1 else ""
            self.stats.declared[f"{prefix}units"] = str(usages)
            self.stats.declared[f"{prefix}revenue"] = {
                currency: _revenue_text(amount) for currency, amount in revenue.items()
            }


_Raw = TypeVar("_Raw", str, int)  # a cell's text, or a share in units of 10^-SHARE_DECIMALS


def _valid(cache: dict[_Raw, str], check: Callable[..., str], raw: _Raw, *args: str) -> str:
    """`check(raw, *args)` (raising Reject), remembered per distinct raw value: a file repeats a
    few territories, currencies, artists and titles over thousands of records."""
    value = cache.get(raw)
    if value is None:
        value = check(raw, *args)
        if len(cache) >= CACHE_SIZE:
            cache.clear()
        cache[raw] = value
    return value


def _kept(cache: dict[str, str], check: Callable[..., str], notes: list[str], raw: str, *args: str) -> str:
    """`check`'s value of a metadata cell, or "" with the reason in `notes`: a usage line is never
    rejected for its metadata."""
    try:
        return _valid(cache, check, raw, *args)
    except Reject as exc:
        notes.append(f"{exc}: the line is kept without it")
        return ""


def _split(raw: str) -> list[str]:
    """A multi-value cell's values (`|` separated; `\\|` is a literal pipe)."""
    if "\\" not in raw:
        return raw.split("|")
    values, current, escaped = [], [], False
    for char in raw:
        if escaped:
            current.append(char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == "|":
            values.append("".join(current))
            current = []
        else:
            current.append(char)
    values.append("".join(current))
    return values


def _value(raw: str) -> str:
    """A cell as text: escapes resolved, several values joined (e.g. two display artists)."""
    if "|" not in raw and "\\" not in raw:
        return raw
    return ", ".join(v.strip() for v in _split(raw) if v.strip())


def _plain(raw: str) -> str:
    return raw if raw.isprintable() else " ".join("".join(c if c.isprintable() else " " for c in raw).split())


def _cell_text(raw: str, name: str) -> str:
    return _text(_value(raw), name, MAX_TEXT)


def _text(raw: str, name: str, limit: int) -> str:
    value = _plain(raw.strip())
    if len(value) > limit:
        raise reject("text_too_long", field=name, limit=limit)
    return value


def _unspace(raw: str) -> str:
    """An identifier without its namespace (`ISRC::GBAYE2600001` → `GBAYE2600001`)."""
    value = _split(raw)[0].strip() if ("|" in raw or "\\" in raw) else raw.strip()
    return value.rpartition("::")[2] if "::" in value else value


def _isrc(raw: str) -> str:
    value = _unspace(raw).upper().replace("-", "")
    if value and not _ISRC.fullmatch(value):
        raise reject("isrc_invalid", value=repr(raw[:40]))
    return value


def _icpn(raw: str) -> str:
    value = _unspace(raw)
    if value and not (value.isascii() and value.isdigit() and 8 <= len(value) <= 14):
        raise reject("icpn_invalid", value=repr(raw[:40]))
    return value


def _territory(raw: str) -> str:
    """ISO 3166-1 alpha-2 (`WW` worldwide), read as the cleaning reads every report's territories;
    `ZZ` (unknown) when the value names no country."""
    return rules.territory(_unspace(raw))


def _currency(raw: str) -> str:
    value = raw.strip().upper()
    if len(value) == 3 and value.isascii() and pycountry.currencies.get(alpha_3=value) is not None:
        return value
    raise reject("currency_invalid", value=repr(raw[:40]))


def _integer(raw: str, name: str, *, signed: bool = False) -> int:
    """A whole number; a decimal with a zero fraction (`12.0`, as Usages typed Decimal) is one too."""
    value = raw.strip()
    digits = value[1:] if signed and value[:1] == "-" else value
    whole, dot, fraction = digits.partition(".")
    if dot and whole and fraction.strip("0") == "" and fraction.isdigit():
        digits, value = whole, value[: len(value) - len(fraction) - 1]
    if not (digits.isascii() and digits.isdigit()) or len(digits) > 19:
        raise reject("number_not_whole", name=name, value=repr(raw[:40]))
    number = int(value)
    if abs(number) >= UNITS_LIMIT:
        raise reject("number_out_of_range", name=name, value=repr(raw[:40]))
    return number


def _decimal(raw: str, name: str) -> Decimal:
    value = raw.strip()
    if not _DECIMAL.fullmatch(value) or len(value) > MAX_NUMBER:
        raise reject("number_invalid", name=name, value=repr(raw[:40]))
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise reject("number_invalid", name=name, value=repr(raw[:40])) from None
    if abs(amount) >= rules.REVENUE_LIMIT:
        raise reject("number_out_of_range", name=name, value=repr(raw[:40]))
    return amount


def _describes(resource: _Resource | None, release: _Release | None, head: _Release | None) -> _Subject:
    """A usage's row values from its resource, else its release, else the block's head release,
    and what it is kept without."""
    artist = (
        (resource.artist if resource else "")
        or (release.artist if release else "")
        or (head.artist if head else "")
    )
    notes = tuple(note for part in (resource, release, head) if part is not None for note in part.notes)
    if not artist:
        notes += (NO_ARTIST,)
    return (
        artist,
        resource.isrc if resource else "",
        (release.icpn if release else "") or (head.icpn if head else ""),
        resource.title if resource else "",
        (release.title if release else "") or (head.title if head else ""),
        notes,
    )


NO_ARTIST = "no display artist for the usage's resource or release: the line is kept without one"


def _scaled_text(amount: int, scale: int = SHARE_DECIMALS) -> str:
    """An amount in units of 10^-scale as plain decimal text (by string slicing: twice as fast as
    divmod and formatting, and this runs once per sales line)."""
    if amount < 0:
        return "-" + _scaled_text(-amount, scale)
    digits = str(amount)
    if len(digits) > _WHOLE_DIGITS + scale:
        raise reject("share_out_of_range")
    whole, fraction = digits[:-scale] or "0", digits[-scale:].zfill(scale).rstrip("0")
    return f"{whole}.{fraction}" if fraction else whole


_WHOLE_DIGITS = len(str(rules.REVENUE_LIMIT)) - 1  # digits before the point of an amount in range


def _revenue_text(amount: Decimal) -> str:
    """An amount as plain text with every digit it has (no exponent, no trailing zeros)."""
    if abs(amount) >= rules.REVENUE_LIMIT:
        raise reject("revenue_out_of_range", value=str(amount))
    text = exact_text(amount)
    return "0" if text in ("", "-0") else text


def _sale_type(use: str) -> str:
    """Our sale type for the standard's UseType (Part 2's allowed values); callers remember it per
    distinct use type."""
    lowered = use.lower()
    if any(word in lowered for word in ("stream", "webcast", "conditionaldownload", "tethereddownload")):
        return "stream"
    if "download" in lowered or lowered in ("purchase", "ondemand"):
        return "download"
    if "physical" in lowered:
        return "physical"
    return "other"
