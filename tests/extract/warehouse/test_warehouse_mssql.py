"""The SQL Server writer: statements parsed as T-SQL, parameters, batching, type mapping.

SQL Server cannot run here; the test marked `mssql` runs the writer for real in GitHub
Actions (DELTASTORE_TEST_MSSQL_URL).
"""

from __future__ import annotations

import datetime as dt
import os
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlglot
from odbc_recorder import OdbcRecorder
from sqlglot import exp

from deltastore.dburl import DatabaseURL
from deltastore.errors import DataError
from deltastore.extract.warehouse import Batch, TableLoad
from deltastore.extract.warehouse import mssql as m
from deltastore.extract.warehouse.base import RejectRow, keys_table
from deltastore.schema_changes import SchemaChange
from deltastore.schemas import ALL_TABLES, EXTRACT_META_TABLES, LOAD_STATE, REJECTS, table
from deltastore.sql_names import insert_values_sql

CART_ITEMS = table("new_store", "cart_items")
PRODUCTS = table("new_store", "products")


def parse(sql: str) -> list[exp.Expr]:
    parsed = sqlglot.parse(sql, read="tsql")
    assert parsed and all(p is not None for p in parsed)
    return [p for p in parsed if p is not None]


@pytest.mark.parametrize("t", [*ALL_TABLES, *EXTRACT_META_TABLES],
                         ids=lambda t: t.qualified_name)
def test_every_statement_parses_as_tsql(t: Any) -> None:
    statements = [m.create_schema_sql(t.schema), m.create_table_sql(t),
                  insert_values_sql(m.KIND, t)]
    if t.schema != "meta":
        statements += [m.create_stage_sql(t), m.stage_insert_sql(t), m.update_sql(t),
                       m.insert_sql(t), m.mark_deleted_sql(t)]
    for sql in statements:
        parse(sql)
    parse(m.last_watermark_sql())


def test_update_compares_business_columns_null_safely_and_revives_deleted_rows() -> None:
    [update] = parse(m.update_sql(PRODUCTS))
    assert isinstance(update, exp.Update)
    sql = m.update_sql(PRODUCTS)
    assert "INNER JOIN #stage_new_store_products AS s ON t.[id] = s.[id]" in sql
    # EXCEPT treats NULLs as equal, so NULL -> NULL is no change and NULL -> 1 is one. Text
    # is compared in a binary collation and by its length in bytes: a change of case or of
    # trailing blanks is a change whatever the warehouse's collation.
    assert ("EXISTS (SELECT s.[title] COLLATE Latin1_General_100_BIN2, DATALENGTH(s.[title]), "
            "s.[price], s.[description] COLLATE Latin1_General_100_BIN2, "
            "DATALENGTH(s.[description]), ") in sql
    assert ("EXCEPT SELECT t.[title] COLLATE Latin1_General_100_BIN2, DATALENGTH(t.[title]), "
            "t.[price], ") in sql
    assert sql.endswith("t.[rating_rate], t.[rating_count])")
    assert "t.[_deleted_at] IS NOT NULL OR" in sql
    assert "t.[id] = s.[id]" in sql and "SET t.[id]" not in sql  # keys are never rewritten
    assert sql.count("?") == 2


def test_insert_adds_only_new_keys_and_deletion_marks_spare_protected_rows() -> None:
    insert = m.insert_sql(CART_ITEMS)
    assert ("WHERE NOT EXISTS (SELECT 1 FROM [new_store].[cart_items] AS t WHERE "
            "t.[cart_id] = s.[cart_id] AND t.[product_id] = s.[product_id])") in insert
    load = TableLoad(CART_ITEMS, "store-api", True, 0, 0, None, dt.datetime(2025, 1, 1), 0,
                     "cart_id", (5, 3))
    mark = m.mark_deleted_sql(CART_ITEMS, load)
    assert mark.endswith("AND t.[cart_id] NOT IN (3, 5)")
    assert "SET t.[_deleted_at] = ?" in mark and mark.count("?") == 1


def test_tables_get_the_contract_types_and_keys_fit_an_index() -> None:
    create = m.create_table_sql(PRODUCTS)
    assert "[price] DECIMAL(12,2)" in create and "[rating_rate] FLOAT" in create
    assert "[_loaded_at] DATETIME2(6), [_batch_id] NVARCHAR(4000)" in create
    assert "CONSTRAINT [pk_new_store_products] PRIMARY KEY ([id])" in create
    state = m.create_table_sql(LOAD_STATE)
    assert "[batch_id] NVARCHAR(200) NOT NULL" in state  # 900-byte key limit
    assert "[payload] NVARCHAR(MAX)" in m.create_table_sql(REJECTS)
    assert m.create_stage_sql(PRODUCTS).startswith(
        "DROP TABLE IF EXISTS #stage_new_store_products; CREATE TABLE #stage_new_store_products")
    # tempdb's collation is the server's: stage text takes the warehouse's own.
    assert ("[title] NVARCHAR(MAX) COLLATE DATABASE_DEFAULT, [price] DECIMAL(12,2), "
            in m.create_stage_sql(PRODUCTS))
    assert "[category] NVARCHAR(4000) COLLATE DATABASE_DEFAULT" in m.create_stage_sql(PRODUCTS)


def test_free_text_is_unbounded_and_older_warehouses_are_widened() -> None:
    reviews = table("old_store", "reviews")
    assert "[review_text] NVARCHAR(MAX)" in m.create_table_sql(reviews)
    assert m.widen_sql(reviews) == [
        "IF COL_LENGTH(N'old_store.reviews', N'review_text') <> -1 ALTER TABLE "
        "[old_store].[reviews] ALTER COLUMN [review_text] NVARCHAR(MAX) NULL"]
    assert m.widen_sql(CART_ITEMS) == []
    for statement in m.widen_sql(PRODUCTS):
        parse(statement)


def test_parameters_are_converted_to_what_pyodbc_binds() -> None:
    carts = table("new_store", "carts")
    assert m.params(carts, [(1, 2, "2025-03-02 06:18:43")]) == [
        (1, 2, dt.datetime(2025, 3, 2, 6, 18, 43))]
    [row] = m.params(PRODUCTS, [(1, "t", 109.95, "d", "c", "i", 3, 120)])
    assert row[2] == Decimal("109.95") and row[6] == 3.0 and isinstance(row[6], float)
    customers = table("old_store", "customers")
    [row] = m.params(customers, [(1, "a", None, "e", 5551234, "x", None, "2024-01-01 00:00:00")])
    assert row[2] is None and row[4] == "5551234" and row[7] == dt.datetime(2024, 1, 1)


@pytest.mark.odbc
def test_input_sizes_pin_every_column_type() -> None:
    import pyodbc

    sizes = m.input_sizes(PRODUCTS)
    assert sizes[0] == (pyodbc.SQL_BIGINT, 0, 0)
    assert sizes[2] == (pyodbc.SQL_DECIMAL, 12, 2)
    assert sizes[1] == (pyodbc.SQL_WVARCHAR, 0, 0)     # title: free text, NVARCHAR(MAX)
    assert sizes[4] == (pyodbc.SQL_WVARCHAR, 4000, 0)  # category
    assert m.input_sizes(REJECTS)[5] == (pyodbc.SQL_WVARCHAR, 0, 0)  # NVARCHAR(MAX)
    assert len(m.input_sizes(LOAD_STATE)) == len(LOAD_STATE.columns)


@pytest.mark.odbc
def test_text_is_bound_at_the_batchs_longest_value() -> None:
    rows = [(1, "Mug", 9.5, "A mug \U0001F600", "kitchen", None, 4.5, 3),
            (2, "Pan", 20.0, None, "kitchen", "http://x", 4.0, 1)]
    sizes = m.input_sizes(PRODUCTS, rows)
    # title 3, description 8 UTF-16 units (the emoji takes two), category 7, image 8.
    assert [s[1] for s, (_, t) in zip(sizes, PRODUCTS.columns, strict=True) if t == "text"] \
        == [3, 8, 7, 8]
    assert m.input_sizes(CART_ITEMS, [(1, 2, 3)]) == m.input_sizes(CART_ITEMS)


def test_money_rounds_half_away_from_zero_as_duckdb_does() -> None:
    """DuckDB casts the store API's JSON `1.005` to DECIMAL(12,2) as 1.01, `-0.125` as -0.13
    (read_json with a DECIMAL column); Decimal's default (half even) gave 1.00 and -0.12."""
    values = [1.005, 0.125, -0.125, 2.675, 8.345]
    assert [m.to_param("money", v) for v in values] == [
        Decimal("1.01"), Decimal("0.13"), Decimal("-0.13"), Decimal("2.68"), Decimal("8.35")]


def _reject(i: int, payload: str = '{"id": 1}') -> tuple[Any, ...]:
    return ("batch-1", "store-api", "new_store.products", str(i), "price is not a number",
            payload, dt.datetime(2026, 1, 1))


def test_rejects_stay_within_the_byte_budget() -> None:
    """Review MAJOR 3: 10,000 rejects bound as four NVARCHAR(4000) and two MAX columns took
    32,104 bytes a row, 306 MiB in one executemany. Bound at their longest value and split
    by the budget, each call stays under MAX_BATCH_BYTES."""
    from deltastore import odbc_binding

    rejects = [_reject(i) for i in range(10_000)]
    calls = list(m.insert_calls(REJECTS, rejects))
    assert sum(len(rows) for _, rows in calls) == 10_000
    for sizes, rows in calls:
        assert odbc_binding.row_bytes(sizes) * len(rows) <= m.MAX_BATCH_BYTES
        assert odbc_binding.row_bytes(sizes) < 300  # was 32,104
    budget = 1024 * 1024
    small = list(m.insert_calls(REJECTS, rejects, max_bytes=budget))
    assert len(small) > 1
    assert all(odbc_binding.row_bytes(s) * len(r) <= budget for s, r in small)


def test_the_writer_sends_ten_thousand_rejects_in_bounded_calls(odbc: OdbcRecorder) -> None:
    """The real writer's commit, pyodbc replaced by the ODBC recorder: what each
    executemany into meta.rejects was bound with."""
    from deltastore import odbc_binding

    wh = m.MssqlWarehouse(DatabaseURL.parse("mssql://loader@wh/warehouse").with_password("p"))
    rejects = [RejectRow("store-api", "new_store.products", str(i), "price is not a number",
                         f'{{"id": {i}, "price": "n/a"}}') for i in range(10_000)]
    wh.commit(Batch("batch-1", dt.datetime(2026, 1, 1)), [], rejects)
    calls = [(params, sizes) for sql, params, sizes in odbc.executed
             if sql == insert_values_sql(m.KIND, REJECTS)]
    assert sum(rows for (rows,), _ in calls) == 10_000
    assert all(odbc_binding.row_bytes(sizes) * rows <= m.MAX_BATCH_BYTES
               for (rows,), sizes in calls)
    assert max(odbc_binding.row_bytes(sizes) for _, sizes in calls) < 300


def test_rows_with_free_text_over_4000_units_go_in_calls_of_their_own() -> None:
    reviews = table("old_store", "reviews")
    long_text = "x" * 4_001
    rows = [(1, 2, 3, 5, "short", None), (2, 2, 3, 5, long_text, None),
            (3, 2, 3, 5, "\U0001F600" * 2_001, None)]  # 4,002 UTF-16 units
    [(short_sizes, short), (long_sizes, long)] = list(m.insert_calls(reviews, rows))
    text = reviews.column_names.index("review_text")
    assert [r[0] for r in short] == [1] and short_sizes[text] == (-9, 5, 0)
    assert [r[0] for r in long] == [2, 3] and long_sizes[text] == (-9, 0, 0)  # MAX


def test_a_bounded_text_longer_than_its_column_is_a_data_error_naming_the_row() -> None:
    customers = table("old_store", "customers")
    row = (42, "Ann", "Lee", "a" * 4_001 + "@example.test", "555", "addr", None, None)
    with pytest.raises(DataError, match=r"`old_store.customers.email`: a value of 4,014 "
                                        r"UTF-16 units \(row customer_id=42\)"):
        list(m.insert_calls(customers, [row]))


def test_rows_are_sent_in_bounded_batches(tmp_path: Path) -> None:
    rows = list(range(25_001))
    assert [len(c) for c in m.chunks(rows)] == [10_000, 10_000, 5_001]
    path = tmp_path / "cart_items.ndjson"
    path.write_text("".join(f'{{"cart_id":{i},"product_id":1,"quantity":2}}\n' for i in range(5)))
    assert list(m.ndjson_rows(CART_ITEMS, path, size=2)) == [
        [(0, 1, 2), (1, 1, 2)], [(2, 1, 2), (3, 1, 2)], [(4, 1, 2)]]


@pytest.mark.mssql
def test_merge_semantics_on_a_real_sql_server() -> None:
    url = DatabaseURL.parse(os.environ["DELTASTORE_TEST_MSSQL_URL"]).with_password(
        os.environ.get("DELTASTORE_TEST_MSSQL_PASSWORD"))
    wh = m.MssqlWarehouse(url)
    try:
        wh.ensure_tables([PRODUCTS])
        wh._run("DELETE FROM [new_store].[products]").close()
        wh.connection.commit()

        def run(n: int, rows: list[tuple[Any, ...]]) -> tuple[int, int, int]:
            wh.start_stage(PRODUCTS)
            wh.stage_rows(PRODUCTS, rows)
            load = TableLoad(PRODUCTS, "store-api", True, len(rows), 0, None,
                             dt.datetime(2025, 1, 1), 0.0)
            [c] = wh.commit(Batch(f"mssql-{n}", dt.datetime(2025, 1, n)), [load], [])
            return c.inserted, c.updated, c.deleted

        def product(i: int, price: float = 10.0) -> tuple[Any, ...]:
            return (i, f"P{i}", price, "d", "c", "i", 4.5, 10)

        assert run(1, [product(1), product(2), product(3)]) == (3, 0, 0)
        assert run(2, [product(1), product(2), product(3)]) == (0, 0, 0)
        assert run(3, [product(1), product(2, 12.5), product(4)]) == (1, 1, 1)
        assert run(4, [product(1), product(2, 12.5), product(3), product(4)]) == (0, 1, 0)
        # A change of case only, then of trailing blanks only, is a change (review MAJOR 5),
        # whatever the collation of the scratch database.
        cased = [product(1), product(2, 12.5), product(3), product(4)]
        cased[0] = (1, "p1", 10.0, "d", "c", "i", 4.5, 10)
        assert run(5, cased) == (0, 1, 0)
        cased[0] = (1, "p1 ", 10.0, "d", "c", "i", 4.5, 10)
        assert run(6, cased) == (0, 1, 0)
        # A review longer than NVARCHAR(4000) is stored whole (review MAJOR 4).
        long_description = (1, "p1 ", 10.0, "é" * 5_000, "c", "i", 4.5, 10)
        assert run(7, [long_description, *cased[1:]]) == (0, 1, 0)
        stored = wh._run("SELECT [description] FROM [new_store].[products] WHERE [id] = 1")
        assert stored.fetchone()[0] == "é" * 5_000
        stored.close()
    finally:
        wh.close()


@pytest.mark.parametrize("key_stage, test", [("present", "NOT EXISTS"), ("deleted", "EXISTS")])
def test_deletion_marks_from_a_key_stage_parse_as_tsql(key_stage: str, test: str) -> None:
    customers = table("old_store", "customers")
    load = TableLoad(customers, "legacy-db", snapshot=False, rows_read=0, rows_rejected=0,
                     watermark=None, started_at=dt.datetime(2026, 1, 1), elapsed=0.0,
                     key_stage=key_stage)  # type: ignore[arg-type]
    sql = m.mark_deleted_sql(customers, load)
    parse(sql)
    assert f"AND {test} (SELECT 1 FROM #stage_old_store_customers__keys AS s " in sql
    assert f"WHERE t.[_deleted_at] IS NULL AND {test} " in sql
    parse(m.create_stage_sql(keys_table(customers)))


def test_a_new_column_is_added_in_the_transaction_of_its_load(odbc: Any) -> None:
    """Schema drift under `evolve` (extract/drift.py): the ALTER, the merge, the columns
    remembered and the change recorded all go between the same two commits."""
    customers = table("old_store", "customers")
    evolved = type(customers)(customers.schema, customers.name,
                              customers.columns + (("loyalty_tier", "text"),),
                              customers.primary_key, customers.watermark)
    change = SchemaChange("legacy-db", "old_store.customers", "loyalty_tier", "added", None,
                          "nvarchar(20)", "evolve", "landed", "as `text`")
    load = TableLoad(evolved, "legacy-db", snapshot=True, rows_read=0, rows_rejected=0,
                     watermark=None, started_at=dt.datetime(2026, 1, 1), elapsed=0.0,
                     new_columns=(("loyalty_tier", "text"),), changes=(change,),
                     source_columns=(("customer_id", "bigint", False),
                                     ("loyalty_tier", "nvarchar(20)", True)))
    url = DatabaseURL.parse("mssql://loader@warehouse/dw").with_password("pw")
    wh = m.MssqlWarehouse(url)
    wh.connection.commit = lambda: odbc.statements.append("COMMIT")  # type: ignore[method-assign]
    wh.commit(Batch("b-1", dt.datetime(2026, 1, 2)), [load], [])
    statements = odbc.statements[odbc.statements.index("COMMIT"):]
    expected = [
        "COMMIT",
        "IF COL_LENGTH(N'[old_store].[customers]', N'loyalty_tier') IS NULL ALTER TABLE",
        "UPDATE t SET t.[first_name] = s.[first_name]",
        "INSERT INTO [old_store].[customers]",
        "UPDATE t SET t.[_deleted_at] = ? FROM [old_store].[customers]",
        "INSERT INTO [meta].[load_state]",
        "DELETE FROM [meta].[source_columns]",
        "INSERT INTO [meta].[source_columns]", "INSERT INTO [meta].[source_columns]",
        "INSERT INTO [meta].[schema_changes]",
        "COMMIT"]
    assert len(statements) == len(expected)
    for sql, start in zip(statements, expected, strict=True):
        assert sql.startswith(start), (sql, start)
    alter = statements[1]
    assert alter.endswith("ALTER TABLE [old_store].[customers] ADD [loyalty_tier] "
                          "NVARCHAR(4000) NULL")
    [parsed] = parse(alter)
    [added] = parsed.find(exp.Alter).args["actions"]
    assert (added.this.name, added.args["kind"].sql("tsql")) == ("loyalty_tier", "NVARCHAR(4000)")
    assert "t.[loyalty_tier] = s.[loyalty_tier]" in statements[2]
    [recorded] = [params for sql, params, _ in odbc.executed if "[meta].[schema_changes]" in sql]
    assert recorded == change.values(dt.datetime(2026, 1, 2), "b-1")
