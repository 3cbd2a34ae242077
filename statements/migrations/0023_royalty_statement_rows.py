"""Finalised royalty statements as rows (payees, groups of lines, shares, unmatched groups)
instead of one JSON document per run, which PostgreSQL refuses past 256 MB; the documents of
runs finalised before are turned into rows, then dropped."""

from decimal import Decimal

import django.db.models.deletion
from django.db import migrations, models

SUMMARY = ("opening", "earnings", "reserve_held", "reserve_released", "recouped", "closing", "payable")
GROUP_FIELDS = ("contract_id", "sale_type", "dsp", "territory", "period", "isrc")
SUSPENSE_FIELDS = ("artist", "isrc", "upc", "title", "dsp", "period", "lines", "units")


def rows_from_documents(apps, schema_editor):
    RoyaltyRun = apps.get_model("statements", "RoyaltyRun")
    models = {
        name: apps.get_model("statements", name)
        for name in (
            "RoyaltyStatementSet",
            "RoyaltyStatement",
            "RoyaltyStatementGroup",
            "RoyaltyStatementShare",
            "RoyaltySuspenseGroup",
        )
    }
    for royalty in RoyaltyRun.objects.exclude(document={}).iterator():
        _rows(royalty, royalty.document, models)


def _rows(royalty, document, models) -> None:
    periods = sorted({line["period"] for s in document["statements"] for line in s.get("lines", [])})
    statement_set = models["RoyaltyStatementSet"].objects.create(
        run_id=royalty.run_id,
        digest=f"finalised-{royalty.sequence}",
        royalty_run=royalty,
        sequence=royalty.sequence,
        problems=document.get("problems", []),
        revenue=Decimal(document.get("revenue_total", {}).get("exact", "0")),
        already_allocated=document.get("already_allocated_lines", 0),
        period_first=periods[0] if periods else "",
        period_last=periods[-1] if periods else "",
        duplicates=[
            {
                "sales_file_id": d["file"]["id"],
                "earlier_file_id": d["earlier_file"]["id"],
                "lines": d["lines"],
                "revenue": d["revenue"]["exact"],
            }
            for d in document.get("duplicates", [])
        ],
    )
    groups, shares, statements = {}, {}, []
    for position, statement in enumerate(document["statements"]):
        payee = statement["payee"]
        summary = statement["summary"]
        statements.append(
            models["RoyaltyStatement"](
                statement_set=statement_set,
                payee_id=payee["id"],
                position=position,
                payee_details=payee,
                carried_forward=Decimal(summary["carried_forward"]["exact"]),
                balances=[
                    {"pool": b["pool"], **{name: b[name]["exact"] for name in SUMMARY}}
                    for b in statement.get("balances", [])
                ],
                **{name: Decimal(summary[name]["exact"]) for name in SUMMARY},
            )
        )
        for line in statement.get("lines", []):
            groups[tuple(line[name] for name in GROUP_FIELDS)] = line
            shares[(payee["id"], line["contract_id"])] = line["share"]
    models["RoyaltyStatement"].objects.bulk_create(statements)
    models["RoyaltyStatementGroup"].objects.bulk_create(
        models["RoyaltyStatementGroup"](
            statement_set=statement_set,
            title=line["title"],
            lines=line["lines"],
            units=line["units"],
            base=Decimal(line["base"]),
            rate=Decimal(line["rate"]),
            **dict(zip(GROUP_FIELDS, key, strict=True)),
        )
        for key, line in groups.items()
    )
    models["RoyaltyStatementShare"].objects.bulk_create(
        models["RoyaltyStatementShare"](
            statement_set=statement_set, payee_id=payee_id, contract_id=contract_id, share=Decimal(share)
        )
        for (payee_id, contract_id), share in shares.items()
    )
    models["RoyaltySuspenseGroup"].objects.bulk_create(
        models["RoyaltySuspenseGroup"](
            statement_set=statement_set,
            label_income=label_income,
            revenue=Decimal(group["revenue"]["exact"]),
            **{name: group[name] for name in SUSPENSE_FIELDS},
        )
        for label_income, key in ((False, "unallocated"), (True, "label_income"))
        for group in document.get(key, [])
    )


class Migration(migrations.Migration):
    dependencies = [
        ("statements", "0022_payment_batches"),
    ]

    operations = [
        migrations.CreateModel(
            name="RoyaltyStatementSet",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("digest", models.CharField(max_length=64, verbose_name="digest")),
                ("sequence", models.PositiveIntegerField(verbose_name="sequence")),
                ("problems", models.JSONField(blank=True, default=list, verbose_name="problems")),
                ("revenue", models.DecimalField(decimal_places=24, max_digits=40, verbose_name="revenue")),
                ("already_allocated", models.BigIntegerField(default=0, verbose_name="lines already paid")),
                ("period_first", models.CharField(blank=True, max_length=7, verbose_name="first month")),
                ("period_last", models.CharField(blank=True, max_length=7, verbose_name="last month")),
                ("duplicates", models.JSONField(blank=True, default=list, verbose_name="duplicates")),
                ("computed_at", models.DateTimeField(auto_now_add=True, verbose_name="computed at")),
                (
                    "royalty_run",
                    models.OneToOneField(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="statement_set",
                        to="statements.royaltyrun",
                        verbose_name="royalty run",
                    ),
                ),
                (
                    "run",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="royalty_statement_sets",
                        to="statements.statementrun",
                        verbose_name="run",
                    ),
                ),
            ],
            options={
                "verbose_name": "royalty statements",
                "verbose_name_plural": "royalty statements",
            },
        ),
        migrations.CreateModel(
            name="RoyaltyStatementGroup",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("sale_type", models.CharField(max_length=10, verbose_name="sale type")),
                ("dsp", models.CharField(max_length=200, verbose_name="dsp")),
                ("territory", models.CharField(max_length=2, verbose_name="territory")),
                ("period", models.CharField(max_length=7, verbose_name="period")),
                ("isrc", models.CharField(blank=True, max_length=12, verbose_name="isrc")),
                ("title", models.CharField(blank=True, max_length=500, verbose_name="title")),
                ("lines", models.BigIntegerField(verbose_name="lines")),
                ("units", models.BigIntegerField(verbose_name="units")),
                ("base", models.DecimalField(decimal_places=24, max_digits=40, verbose_name="base")),
                ("rate", models.DecimalField(decimal_places=10, max_digits=12, verbose_name="rate")),
                (
                    "contract",
                    models.ForeignKey(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="statements.contract",
                        verbose_name="contract",
                    ),
                ),
                (
                    "statement_set",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="groups",
                        to="statements.royaltystatementset",
                        verbose_name="statements",
                    ),
                ),
            ],
            options={
                "verbose_name": "statement group of lines",
                "verbose_name_plural": "statement groups of lines",
            },
        ),
        migrations.CreateModel(
            name="RoyaltyStatement",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("position", models.PositiveIntegerField(verbose_name="position")),
                ("payee_details", models.JSONField(default=dict, verbose_name="payee details")),
                ("opening", models.DecimalField(decimal_places=24, max_digits=40, verbose_name="opening")),
                ("earnings", models.DecimalField(decimal_places=24, max_digits=40, verbose_name="earnings")),
                (
                    "reserve_held",
                    models.DecimalField(decimal_places=24, max_digits=40, verbose_name="reserve held"),
                ),
                (
                    "reserve_released",
                    models.DecimalField(decimal_places=24, max_digits=40, verbose_name="reserve released"),
                ),
                ("recouped", models.DecimalField(decimal_places=24, max_digits=40, verbose_name="recouped")),
                ("closing", models.DecimalField(decimal_places=24, max_digits=40, verbose_name="closing")),
                ("payable", models.DecimalField(decimal_places=24, max_digits=40, verbose_name="payable")),
                (
                    "carried_forward",
                    models.DecimalField(decimal_places=24, max_digits=40, verbose_name="carried forward"),
                ),
                (
                    "outstanding",
                    models.DecimalField(
                        blank=True, decimal_places=24, max_digits=40, null=True, verbose_name="outstanding"
                    ),
                ),
                ("balances", models.JSONField(blank=True, default=list, verbose_name="balances")),
                ("postings", models.JSONField(blank=True, default=dict, verbose_name="postings")),
                (
                    "payee",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="statements.payee",
                        verbose_name="payee",
                    ),
                ),
                (
                    "statement_set",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="statements",
                        to="statements.royaltystatementset",
                        verbose_name="statements",
                    ),
                ),
            ],
            options={
                "verbose_name": "payee statement",
                "verbose_name_plural": "payee statements",
                "ordering": ["statement_set", "position"],
            },
        ),
        migrations.CreateModel(
            name="RoyaltyStatementShare",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("share", models.DecimalField(decimal_places=6, max_digits=9, verbose_name="share")),
                (
                    "contract",
                    models.ForeignKey(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="statements.contract",
                        verbose_name="contract",
                    ),
                ),
                (
                    "payee",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="statements.payee",
                        verbose_name="payee",
                    ),
                ),
                (
                    "statement_set",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="shares",
                        to="statements.royaltystatementset",
                        verbose_name="statements",
                    ),
                ),
            ],
            options={
                "verbose_name": "statement share",
                "verbose_name_plural": "statement shares",
            },
        ),
        migrations.CreateModel(
            name="RoyaltySuspenseGroup",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("label_income", models.BooleanField(default=False, verbose_name="label income")),
                ("artist", models.CharField(max_length=500, verbose_name="artist")),
                ("isrc", models.CharField(blank=True, max_length=12, verbose_name="isrc")),
                ("upc", models.CharField(blank=True, max_length=14, verbose_name="upc")),
                ("title", models.CharField(blank=True, max_length=500, verbose_name="title")),
                ("dsp", models.CharField(max_length=200, verbose_name="dsp")),
                ("period", models.CharField(max_length=7, verbose_name="period")),
                ("lines", models.BigIntegerField(verbose_name="lines")),
                ("units", models.BigIntegerField(verbose_name="units")),
                ("revenue", models.DecimalField(decimal_places=24, max_digits=40, verbose_name="revenue")),
                (
                    "statement_set",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="suspense",
                        to="statements.royaltystatementset",
                        verbose_name="statements",
                    ),
                ),
            ],
            options={
                "verbose_name": "unmatched group",
                "verbose_name_plural": "unmatched groups",
            },
        ),
        migrations.AddConstraint(
            model_name="royaltystatementset",
            constraint=models.UniqueConstraint(fields=("run", "digest"), name="royalty_statements_once"),
        ),
        migrations.AddIndex(
            model_name="royaltystatementgroup",
            index=models.Index(fields=["statement_set", "contract"], name="royalty_group_contract"),
        ),
        migrations.AddConstraint(
            model_name="royaltystatement",
            constraint=models.UniqueConstraint(
                fields=("statement_set", "payee"), name="royalty_statement_once_per_payee"
            ),
        ),
        migrations.AddConstraint(
            model_name="royaltystatementshare",
            constraint=models.UniqueConstraint(
                fields=("statement_set", "payee", "contract"), name="royalty_statement_share_once"
            ),
        ),
        migrations.AddIndex(
            model_name="royaltysuspensegroup",
            index=models.Index(fields=["statement_set"], name="royalty_suspense_set"),
        ),
        migrations.RunPython(rows_from_documents, migrations.RunPython.noop),
        migrations.RemoveField(
            model_name="royaltyrun",
            name="document",
        ),
    ]
