from __future__ import annotations

from django.core.management.base import BaseCommand
from django.db import connection, transaction

from workbench.crypto import encrypted_columns, rotate

BATCH = 500


class Command(BaseCommand):
    help = (
        "Re-encrypts every encrypted column with the first key of PAYDESK_ENCRYPTION_KEYS. "
        "Run after putting a new key first; then the old keys can be removed."
    )

    def handle(self, *args, **options):
        total = 0
        for model, field in encrypted_columns():
            rotated = self._rotate_column(model, field)
            total += rotated
            self.stdout.write(f"{model._meta.label}.{field.name}: {rotated} value(s) re-encrypted")
        self.stdout.write(self.style.SUCCESS(f"Done: {total} value(s) re-encrypted."))

    @staticmethod
    def _rotate_column(model, field) -> int:
        # Raw SQL on the stored tokens: loading through the ORM would decrypt them, and the
        # ORM's tenant scope does not apply to an operator's maintenance command.
        table = connection.ops.quote_name(model._meta.db_table)
        column = connection.ops.quote_name(field.column)
        pk = connection.ops.quote_name(model._meta.pk.column)
        rotated, last_pk = 0, None
        while True:
            with transaction.atomic(), connection.cursor() as cursor:
                where = f"{column} <> ''" + (f" AND {pk} > %s" if last_pk is not None else "")
                cursor.execute(
                    f"SELECT {pk}, {column} FROM {table} WHERE {where} "  # noqa: S608
                    f"ORDER BY {pk} LIMIT {BATCH}",
                    [last_pk] if last_pk is not None else [],
                )
                rows = cursor.fetchall()
                for row_pk, token in rows:
                    # Compare-and-set: a value the console rewrote meanwhile is already
                    # encrypted with the first key and must not be overwritten.
                    cursor.execute(
                        f"UPDATE {table} SET {column} = %s "  # noqa: S608
                        f"WHERE {pk} = %s AND {column} = %s",
                        [rotate(token), row_pk, token],
                    )
                    rotated += cursor.rowcount
            if len(rows) < BATCH:
                return rotated
            last_pk = rows[-1][0]
