"""What every sales-file cleaner produces: normalised rows in `CLEAN_COLUMNS` order, `Problem`s
for rejected lines (or a fatal reason), and `Stats` filled while the rows are consumed.

Cleaners are pure: they read text and never touch the database or the storage.
"""

from dataclasses import dataclass, field

from project.stored_text import Text

# Column order of the normalised CSV (and of the COPY into statements_salesline).
CLEAN_COLUMNS = (
    "line_number",  # physical line of the source file (1-based)
    "period",  # YYYY-MM of the sale (a range's start month)
    "dsp",
    "artist",  # display artist
    "isrc",  # "" when absent
    "upc",  # ICPN/UPC/EAN digits, "" when absent
    "title",  # resource (track) title, "" when absent
    "territory",  # ISO 3166-1 alpha-2 (or "WW" for worldwide)
    "units",  # integer as text; negative for voids/returns
    "revenue",  # exact decimal as text in the file's currency; negative for voids/returns
    "currency",  # ISO 4217
    "sale_type",  # one of SALE_TYPES
    "use_type",  # the source's own use/sale type, e.g. OnDemandStream, PermanentDownload; "" when absent
    "commercial_model",  # e.g. SubscriptionModel, AdvertisementSupportedModel; "" when absent
    "release",  # release title, "" when absent
)
# A row is a plain tuple in CLEAN_COLUMNS order (a million of them: tuples, not objects).
Row = tuple

SALE_TYPES = ("stream", "download", "physical", "other")


@dataclass(frozen=True, slots=True)
class Problem:
    """A rejected line (or, when `fatal`, a reason the whole file cannot be used)."""

    line: int
    reason: str
    fatal: bool = False
    # The rejected line's amount as written (exact decimal text) and its currency, when they read:
    # the file's reconciliation counts the money of rejected lines. Not part of a problem's identity.
    amount: str = field(default="", compare=False)
    currency: str = field(default="", compare=False)
    # The reason as a code (statements.texts), so that the run page shows it in the reader's
    # language; `reason` is its English sentence.
    text: Text | None = field(default=None, compare=False)


@dataclass
class Stats:
    """Counters and findings filled while the results are consumed."""

    lines: int = 0  # physical lines read
    structural: int = 0  # header, preamble, comment and DSR records that are not sales lines
    detail: str = ""  # what was recognised, e.g. "DDEX DSR BasicAudioProfile 1.3" or "apple_music"
    # The file's checks against itself that did not hold (e.g. FOOT counts, summary vs usages).
    warnings: list[str] = field(default_factory=list)
    # Totals the file declares about itself, where it has them (DSR SY/FOOT records, a report's
    # totals row): e.g. {"lines": 120, "summary_records": 3, "units": "1500",
    # "revenue": {"USD": "12.3456"}}. JSON-serialisable values only.
    declared: dict = field(default_factory=dict)
    # A table with a header row that no import profile reads: its columns can be mapped by hand.
    unknown_layout: bool = False
    revenue_basis: str = ""  # a DDEX DSR file's income column, as the parser used it


class Reject(ValueError):
    """A line-level validation failure; its message becomes the rejected line's reason, `text` the
    same as a code (raised through statements.texts.reject) that the run page translates."""

    text: Text | None = None
