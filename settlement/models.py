"""Settlement structures, their running aggregates, the history of operations and the settlements."""

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils.translation import gettext_lazy as _

# Values are stored exactly: inputs that need more digits are refused, never rounded. A value has at
# most 28 integer digits and a round at most 2**63 records, so a sum stays below 10**48: 60 digits
# with 12 decimal places can never overflow.
VALUE_INTEGER_DIGITS = 28
TOTAL_MAX_DIGITS = 60
TOTAL_DECIMAL_PLACES = 12
HASH_LENGTH = 64


class AggregationType(models.TextChoices):
    MC_COUNTER = "mcCounter", _("mcCounter (records carrying each field)")
    ONE_CDR = "1CDR", _("1CDR (decimal sum of each field)")
    MIN = "min", _("min (smallest value of each field)")
    MAX = "max", _("max (largest value of each field)")
    LATEST = "latest", _("latest (value of the last record carrying each field)")
    UNIQUE_COUNT = "uniqueCount", _("uniqueCount (distinct values of each field)")


class SettlementType(models.TextChoices):
    NONE = "none", _("none (the aggregates as they are)")
    ONE_CDR = "1CDR", _("1CDR (one consolidated record per key)")


class Operation(models.TextChoices):
    CREATE = "Create", _("Create")
    UPDATE = "Update", _("Update")
    SETTLE = "Settle", _("Settle")
    CLEAR = "Clear", _("Clear")


class Structure(models.Model):
    """A settlement structure: which field keys the records and which fields are aggregated how."""

    settleid = models.CharField(max_length=200, unique=True, verbose_name=_("settleid"))
    aggregation_metrics = models.JSONField(
        help_text=_("Names of the aggregated fields, in the client's order."),
        verbose_name=_("aggregation metrics"),
    )
    primary_key = models.CharField(max_length=200, verbose_name=_("primary key"))
    aggregation_type = models.CharField(
        max_length=16, choices=AggregationType.choices, verbose_name=_("aggregation type")
    )
    settlement_type = models.CharField(
        max_length=16, choices=SettlementType.choices, verbose_name=_("settlement type")
    )
    # JSON numbers arrive as Decimal (never float); the encoder keeps them as exact strings.
    sample_record = models.JSONField(encoder=DjangoJSONEncoder, verbose_name=_("sample record"))
    created_at = models.DateTimeField(verbose_name=_("created at"))
    created_by = models.CharField(max_length=150, verbose_name=_("created by"))
    # The spec's samples start it at the creation time; each settle moves it.
    last_settlement_at = models.DateTimeField(verbose_name=_("last settlement at"))
    dedup_field = models.CharField(
        max_length=200,
        blank=True,
        help_text=_("Record field whose repeated values are skipped until the next settle."),
        verbose_name=_("dedup field"),
    )
    # Updates only append their delta to the history; the aggregates hold the state up to this
    # position of the chain and later deltas are folded in on read, settle, clear and in the background.
    folded_seq = models.BigIntegerField(default=0, verbose_name=_("folded seq"))

    class Meta:
        verbose_name = _("structure")
        verbose_name_plural = _("structures")
        db_table = "settlement_structure"
        ordering = ["settleid"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(aggregation_type__in=AggregationType.values),
                name="settlement_structure_aggregation_type_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(settlement_type__in=SettlementType.values),
                name="settlement_structure_settlement_type_valid",
            ),
            models.CheckConstraint(
                condition=~models.Q(settleid=""), name="settlement_structure_settleid_not_empty"
            ),
        ]

    def __str__(self) -> str:
        return self.settleid


class Aggregate(models.Model):
    """The running aggregate of one field for one primary-key value since the last settle or clear.

    `count` is the number of records that carried the field (mcCounter's value); `total` is the
    exact sum of its values (1CDR's value)."""

    # The unique constraint leads with the structure, so a separate FK index would only slow upserts.
    structure = models.ForeignKey(
        Structure,
        on_delete=models.CASCADE,
        related_name="aggregates",
        db_index=False,
        verbose_name=_("structure"),
    )
    key = models.TextField(verbose_name=_("key"))
    field = models.CharField(max_length=200, verbose_name=_("field"))
    count = models.BigIntegerField(default=0, verbose_name=_("count"))
    total = models.DecimalField(
        max_digits=TOTAL_MAX_DIGITS, decimal_places=TOTAL_DECIMAL_PLACES, default=0, verbose_name=_("total")
    )
    # latest: the value (text); uniqueCount: the sorted distinct values.
    value = models.JSONField(null=True, blank=True, verbose_name=_("value"))

    class Meta:
        verbose_name = _("aggregate")
        verbose_name_plural = _("aggregates")
        db_table = "settlement_aggregate"
        ordering = ["structure", "key", "field"]
        constraints = [
            models.UniqueConstraint(fields=["structure", "key", "field"], name="settlement_aggregate_unique"),
            models.CheckConstraint(condition=models.Q(count__gte=0), name="settlement_aggregate_count_gte_0"),
        ]

    def __str__(self) -> str:
        return f"{self.structure_id}:{self.key}:{self.field}"


class AggregateKey(models.Model):
    """Records seen per primary-key value since the last settle or clear (1CDR settlements report it)."""

    structure = models.ForeignKey(
        Structure,
        on_delete=models.CASCADE,
        related_name="aggregate_keys",
        db_index=False,
        verbose_name=_("structure"),
    )
    key = models.TextField(verbose_name=_("key"))
    records = models.BigIntegerField(default=0, verbose_name=_("records"))

    class Meta:
        verbose_name = _("aggregate key")
        verbose_name_plural = _("aggregate keys")
        db_table = "settlement_aggregate_key"
        ordering = ["structure", "key"]
        constraints = [
            models.UniqueConstraint(fields=["structure", "key"], name="settlement_aggregate_key_unique"),
            models.CheckConstraint(
                condition=models.Q(records__gte=0), name="settlement_aggregate_key_records_gte_0"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.structure_id}:{self.key}"


class ChainHead(models.Model):
    """The newest link of a structure's hash chain over its history entries and settlements.

    Writers lock this row while they append, so the chain has one order and entries become visible
    in that order."""

    structure = models.OneToOneField(
        Structure,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="chain",
        verbose_name=_("structure"),
    )
    seq = models.BigIntegerField(default=0, verbose_name=_("seq"))
    head = models.CharField(max_length=HASH_LENGTH, blank=True, verbose_name=_("head"))

    class Meta:
        verbose_name = _("chain head")
        verbose_name_plural = _("chain heads")
        db_table = "settlement_chain"

    def __str__(self) -> str:
        return f"{self.structure_id}@{self.seq}"


class JSONTextField(models.JSONField):
    """A JSONField kept in PostgreSQL as `json` (the text as written) rather than `jsonb`: a history
    delta is written once per update and only ever read back whole, and converting 1,000 keys to
    jsonb cost PostgreSQL about 0.3 ms per update."""

    def db_type(self, connection):
        return "json"

    def from_db_value(self, value, expression, connection):
        # psycopg2 parses `json` itself (Django only leaves jsonb to the field). What is kept here
        # holds strings and integer counts, never a fraction that json.loads would make a float.
        if not isinstance(value, str):
            return value
        return super().from_db_value(value, expression, connection)


class HistoryEntry(models.Model):
    """One successful operation. Updates keep only their delta; the full state after each entry is
    folded on read, so an update costs O(batch), not O(all keys)."""

    # History and settlements are the audit trail: a structure that has them cannot be deleted.
    structure = models.ForeignKey(
        Structure,
        on_delete=models.PROTECT,
        related_name="history",
        db_index=False,
        verbose_name=_("structure"),
    )
    operation = models.CharField(max_length=16, choices=Operation.choices, verbose_name=_("operation"))
    user = models.CharField(max_length=150, verbose_name=_("user"))
    at = models.DateTimeField(verbose_name=_("at"))
    last_settlement_at = models.DateTimeField(verbose_name=_("last settlement at"))
    # Create, settle and clear leave empty aggregates behind; an update adds `delta` to them.
    resets = models.BooleanField(default=False, verbose_name=_("resets"))
    delta = JSONTextField(
        null=True,
        blank=True,
        help_text=_("{key: {field: value added}} of an update."),
        verbose_name=_("delta"),
    )
    # Records per key of an update, kept when the structure settles 1CDR (its "records").
    key_records = JSONTextField(null=True, blank=True, verbose_name=_("key records"))
    records = models.PositiveIntegerField(default=0, verbose_name=_("records"))
    duplicates = models.PositiveIntegerField(default=0, verbose_name=_("duplicates"))
    seq = models.BigIntegerField(verbose_name=_("seq"))
    hash = models.CharField(max_length=HASH_LENGTH, verbose_name=_("hash"))

    class Meta:
        verbose_name = _("history entry")
        db_table = "settlement_history"
        ordering = ["-id"]
        verbose_name_plural = _("history entries")
        indexes = [models.Index(fields=["structure", "-id"], name="settlement_history_newest")]
        constraints = [
            models.UniqueConstraint(fields=["structure", "seq"], name="settlement_history_seq_unique"),
            models.CheckConstraint(
                condition=models.Q(operation__in=Operation.values), name="settlement_history_operation_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(resets=True) | models.Q(operation=Operation.UPDATE, delta__isnull=False),
                name="settlement_history_update_has_delta",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.structure_id} {self.operation} #{self.pk}"


class Settlement(models.Model):
    """A settled entry: what `settle` returned, frozen."""

    structure = models.ForeignKey(
        Structure,
        on_delete=models.PROTECT,
        related_name="settlements",
        db_index=False,
        verbose_name=_("structure"),
    )
    settled_at = models.DateTimeField(verbose_name=_("settled at"))
    settled_by = models.CharField(max_length=150, verbose_name=_("settled by"))
    settlement_type = models.CharField(
        max_length=16, choices=SettlementType.choices, verbose_name=_("settlement type")
    )
    aggregates = models.JSONField(verbose_name=_("aggregates"))
    keys = models.PositiveIntegerField(default=0, verbose_name=_("keys"))
    seq = models.BigIntegerField(verbose_name=_("seq"))
    hash = models.CharField(max_length=HASH_LENGTH, verbose_name=_("hash"))

    class Meta:
        verbose_name = _("settlement")
        verbose_name_plural = _("settlements")
        db_table = "settlement_settlement"
        ordering = ["-id"]
        indexes = [models.Index(fields=["structure", "-id"], name="settlement_settled_newest")]
        constraints = [
            models.UniqueConstraint(fields=["structure", "seq"], name="settlement_settlement_seq_unique"),
            models.CheckConstraint(
                condition=models.Q(settlement_type__in=SettlementType.values),
                name="settlement_settlement_type_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.structure_id} settled #{self.pk}"


class SeenValue(models.Model):
    """A value of the structure's dedupField already counted since the last settle or clear."""

    structure = models.ForeignKey(
        Structure, on_delete=models.CASCADE, related_name="+", db_index=False, verbose_name=_("structure")
    )
    value = models.TextField(verbose_name=_("value"))

    class Meta:
        verbose_name = _("seen value")
        verbose_name_plural = _("seen values")
        db_table = "settlement_seen_value"
        constraints = [
            models.UniqueConstraint(fields=["structure", "value"], name="settlement_seen_value_unique")
        ]

    def __str__(self) -> str:
        return f"{self.structure_id}:{self.value}"
