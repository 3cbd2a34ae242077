"""Settlement structures, their running aggregates, the history of operations and the settlements."""

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models

# Values are stored exactly: inputs that need more digits are refused, never rounded. A value has at
# most 28 integer digits and a round at most 2**63 records, so a sum stays below 10**48: 60 digits
# with 12 decimal places can never overflow.
VALUE_INTEGER_DIGITS = 28
TOTAL_MAX_DIGITS = 60
TOTAL_DECIMAL_PLACES = 12
HASH_LENGTH = 64


class AggregationType(models.TextChoices):
    MC_COUNTER = "mcCounter", "mcCounter (records carrying each field)"
    ONE_CDR = "1CDR", "1CDR (decimal sum of each field)"
    MIN = "min", "min (smallest value of each field)"
    MAX = "max", "max (largest value of each field)"
    LATEST = "latest", "latest (value of the last record carrying each field)"
    UNIQUE_COUNT = "uniqueCount", "uniqueCount (distinct values of each field)"


class SettlementType(models.TextChoices):
    NONE = "none", "none (the aggregates as they are)"
    ONE_CDR = "1CDR", "1CDR (one consolidated record per key)"


class Operation(models.TextChoices):
    CREATE = "Create"
    UPDATE = "Update"
    SETTLE = "Settle"
    CLEAR = "Clear"


class Structure(models.Model):
    """A settlement structure: which field keys the records and which fields are aggregated how."""

    settleid = models.CharField(max_length=200, unique=True)
    aggregation_metrics = models.JSONField(help_text="Names of the aggregated fields, in the client's order.")
    primary_key = models.CharField(max_length=200)
    aggregation_type = models.CharField(max_length=16, choices=AggregationType.choices)
    settlement_type = models.CharField(max_length=16, choices=SettlementType.choices)
    # JSON numbers arrive as Decimal (never float); the encoder keeps them as exact strings.
    sample_record = models.JSONField(encoder=DjangoJSONEncoder)
    created_at = models.DateTimeField()
    created_by = models.CharField(max_length=150)
    # The spec's samples start it at the creation time; each settle moves it.
    last_settlement_at = models.DateTimeField()
    dedup_field = models.CharField(
        max_length=200,
        blank=True,
        help_text="Record field whose repeated values are skipped until the next settle.",
    )
    # Updates only append their delta to the history; the aggregates hold the state up to this
    # position of the chain and later deltas are folded in on read, settle, clear and in the background.
    folded_seq = models.BigIntegerField(default=0)

    class Meta:
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
        Structure, on_delete=models.CASCADE, related_name="aggregates", db_index=False
    )
    key = models.TextField()
    field = models.CharField(max_length=200)
    count = models.BigIntegerField(default=0)
    total = models.DecimalField(max_digits=TOTAL_MAX_DIGITS, decimal_places=TOTAL_DECIMAL_PLACES, default=0)
    # latest: the value (text); uniqueCount: the sorted distinct values.
    value = models.JSONField(null=True, blank=True)

    class Meta:
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
        Structure, on_delete=models.CASCADE, related_name="aggregate_keys", db_index=False
    )
    key = models.TextField()
    records = models.BigIntegerField(default=0)

    class Meta:
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
        Structure, on_delete=models.CASCADE, primary_key=True, related_name="chain"
    )
    seq = models.BigIntegerField(default=0)
    head = models.CharField(max_length=HASH_LENGTH, blank=True)

    class Meta:
        db_table = "settlement_chain"

    def __str__(self) -> str:
        return f"{self.structure_id}@{self.seq}"


class HistoryEntry(models.Model):
    """One successful operation. Updates keep only their delta; the full state after each entry is
    folded on read, so an update costs O(batch), not O(all keys)."""

    # History and settlements are the audit trail: a structure that has them cannot be deleted.
    structure = models.ForeignKey(Structure, on_delete=models.PROTECT, related_name="history", db_index=False)
    operation = models.CharField(max_length=16, choices=Operation.choices)
    user = models.CharField(max_length=150)
    at = models.DateTimeField()
    last_settlement_at = models.DateTimeField()
    # Create, settle and clear leave empty aggregates behind; an update adds `delta` to them.
    resets = models.BooleanField(default=False)
    delta = models.JSONField(null=True, blank=True, help_text="{key: {field: value added}} of an update.")
    # Records per key of an update, kept when the structure settles 1CDR (its "records").
    key_records = models.JSONField(null=True, blank=True)
    records = models.PositiveIntegerField(default=0)
    duplicates = models.PositiveIntegerField(default=0)
    seq = models.BigIntegerField()
    hash = models.CharField(max_length=HASH_LENGTH)

    class Meta:
        db_table = "settlement_history"
        ordering = ["-id"]
        verbose_name_plural = "history entries"
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
        Structure, on_delete=models.PROTECT, related_name="settlements", db_index=False
    )
    settled_at = models.DateTimeField()
    settled_by = models.CharField(max_length=150)
    settlement_type = models.CharField(max_length=16, choices=SettlementType.choices)
    aggregates = models.JSONField()
    keys = models.PositiveIntegerField(default=0)
    seq = models.BigIntegerField()
    hash = models.CharField(max_length=HASH_LENGTH)

    class Meta:
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

    structure = models.ForeignKey(Structure, on_delete=models.CASCADE, related_name="+", db_index=False)
    value = models.TextField()

    class Meta:
        db_table = "settlement_seen_value"
        constraints = [
            models.UniqueConstraint(fields=["structure", "value"], name="settlement_seen_value_unique")
        ]

    def __str__(self) -> str:
        return f"{self.structure_id}:{self.value}"


class IdempotencyKey(models.Model):
    """The stored reply of a request sent with an Idempotency-Key, replayed to its retries."""

    username = models.CharField(max_length=150)
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(
        max_length=HASH_LENGTH, help_text="SHA-256 of method, path, query and body."
    )
    status = models.PositiveSmallIntegerField(
        null=True, help_text="Empty while the request is being applied."
    )
    body = models.TextField(blank=True)
    headers = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        db_table = "settlement_idempotency_key"
        constraints = [
            models.UniqueConstraint(fields=["username", "key"], name="settlement_idempotency_key_unique")
        ]

    def __str__(self) -> str:
        return f"{self.username}:{self.key}"
