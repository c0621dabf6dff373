"""A small, internally consistent set of KPI marts in a real DuckDB file, per the contract.

Stands in for the dbt marts in tests: orders, payments, products and shipments are drawn
from a seeded generator and every KPI mart is aggregated from them the way the contract
describes, so the numbers on the pages can be checked against the file.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

from deltastore.dashboards.marts import KPI_MARTS, SCHEMA
from deltastore.db import column_type
from deltastore.settings import Settings

RUN_DATE = dt.date(2024, 6, 30)
# Two years of data, so year-over-year comparisons have something to compare.
FIRST_MONTH = dt.date(2022, 7, 1)
MONTHS = 24
OPEN_STATUSES = ("Pending", "Shipped", "In Transit")
STATES = {"CA": "California", "TX": "Texas", "NY": "New York", "FL": "Florida",
          "WA": "Washington", "IL": "Illinois", "GA": "Georgia", "MA": "Massachusetts",
          "CO": "Colorado", "OH": "Ohio", "AZ": "Arizona", "NC": "North Carolina"}
CARRIERS = ("FedEx", "UPS", "USPS")
CATEGORIES = {
    "electronics": ["USB-C Hub", "Noise-cancelling Headphones", "Portable SSD 1TB",
                    "Mechanical Keyboard", "Webcam 1080p", "Wireless Mouse",
                    # a name a spreadsheet would run as a formula: downloads neutralise it
                    "=Gift Card Bundle"],
    "jewelery": ["Silver Hoop Earrings", "Gold Chain Necklace", "Pearl Bracelet"],
    "men's clothing": ["Slim Fit Chinos", "Cotton Crew T-Shirt", "Rain Jacket",
                       "Wool Sweater"],
    "women's clothing": ["Linen Summer Dress", "Denim Jacket", "Rain Boots", "Knit Cardigan",
                         "Yoga Leggings"],
}
# Extra rows of a plain mart (dim_customers) so exports cross several fetchmany batches.
EXTRA_CUSTOMERS = 150
DIM_CUSTOMERS = (("unified_customer_id", "text"), ("source_store", "text"),
                 ("customer_id", "int"), ("email", "text"), ("state_code", "text"),
                 ("created_at", "timestamp"), ("is_active", "bool"))


def money(value: float) -> Decimal:
    return Decimal(str(round(value, 2))).quantize(Decimal("0.01"))


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def months_between(start: dt.date, end: dt.date) -> int:
    return (end.year - start.year) * 12 + end.month - start.month


def add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def build_tables(seed: int = 7) -> dict[str, list[tuple[Any, ...]]]:
    """Every KPI mart (plus dim_customers) as rows in contract column order."""
    rng = random.Random(seed)
    orders: list[tuple[int, dt.date, Decimal]] = []
    customer_state: dict[int, str | None] = {}
    for customer in range(1, 61):
        # Web store users have no state on record (NULL state in the marts).
        customer_state[customer] = rng.choice([*STATES, None])
        first = FIRST_MONTH + dt.timedelta(days=rng.randrange(0, 24 * 30))
        for _ in range(rng.randint(1, 5)):
            day = first + dt.timedelta(days=rng.randrange(0, 200))
            if day <= RUN_DATE:
                orders.append((customer, day, money(rng.uniform(25, 400))))
        if not any(o[0] == customer for o in orders):
            orders.append((customer, first, money(rng.uniform(25, 400))))
    tables: dict[str, list[tuple[Any, ...]]] = {}

    # Customers and segments.
    per_customer: dict[int, list[tuple[dt.date, Decimal]]] = defaultdict(list)
    for customer, day, amount in orders:
        per_customer[customer].append((day, amount))
    six_months_ago = add_months(RUN_DATE, -6) + (RUN_DATE - month_start(RUN_DATE))
    segments = []
    for customer, items in sorted(per_customer.items()):
        first, last = min(d for d, _ in items), max(d for d, _ in items)
        revenue = sum((a for _, a in items), Decimal("0"))
        segment = ("new" if first > six_months_ago else
                   "at-risk" if last < six_months_ago else "casual")
        segments.append((f"{customer:032x}", "old store", customer, customer_state[customer],
                         first, last, len(items), revenue, segment))
    tables["fct_customer_segments"] = segments
    total_revenue = sum((a for _, _, a in orders), Decimal("0"))
    tables["kpi_customer_summary"] = [(70, len(per_customer), len(orders), total_revenue,
                                       money(float(total_revenue) / len(orders)))]
    by_state: dict[tuple[str | None, str], list[Any]] = defaultdict(lambda: [0, Decimal("0")])
    by_segment: dict[str, list[Any]] = defaultdict(lambda: [0, Decimal("0"), 0])
    for row in segments:
        cell = by_state[(row[3], row[8])]
        cell[0] += 1
        cell[1] += row[7]
        seg = by_segment[row[8]]
        seg[0] += 1
        seg[1] += row[7]
        seg[2] += row[6]
    tables["kpi_customers_by_state"] = [
        (code, STATES.get(code or ""), segment, n, revenue)
        for (code, segment), (n, revenue) in sorted(by_state.items(),
                                                    key=lambda i: (i[0][0] or "", i[0][1]))]
    tables["kpi_customer_segments"] = [(s, n, r, money(float(r) / k))
                                       for s, (n, r, k) in sorted(by_segment.items())]

    # Months: revenue, least-squares trend, growth.
    monthly: dict[dt.date, list[Any]] = defaultdict(lambda: [0, Decimal("0")])
    for _, day, amount in orders:
        monthly[month_start(day)][0] += 1
        monthly[month_start(day)][1] += amount
    months = sorted(monthly)
    xs = list(range(len(months)))
    ys = [float(monthly[m][1]) for m in months]
    mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
    slope = (sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True))
             / sum((x - mean_x) ** 2 for x in xs))
    rows = []
    previous: tuple[float, float] | None = None
    for x, m in enumerate(months):
        count, revenue = monthly[m]
        aov = float(revenue) / count
        growth = (None, None) if previous is None else (
            float(revenue) / previous[0] - 1, aov / previous[1] - 1)
        rows.append((m, count, revenue, money(aov), money(mean_y + slope * (x - mean_x)),
                     *growth))
        previous = (float(revenue), aov)
    tables["kpi_monthly_revenue"] = rows

    # Cohort retention.
    cohorts: dict[dt.date, set[int]] = defaultdict(set)
    active: dict[tuple[dt.date, int], set[int]] = defaultdict(set)
    for row in segments:
        cohorts[month_start(row[4])].add(row[2])
    for customer, day, _ in orders:
        cohort = month_start(min(d for d, _ in per_customer[customer]))
        active[(cohort, months_between(cohort, day))].add(customer)
    tables["kpi_cohort_retention"] = [
        (cohort, offset, len(cohorts[cohort]), len(active[(cohort, offset)]),
         len(active[(cohort, offset)]) / len(cohorts[cohort]))
        for cohort in sorted(cohorts)
        for offset in range(months_between(cohort, RUN_DATE) + 1)]

    # Payments.
    statuses = {"Completed": [0, Decimal("0")], "Pending": [0, Decimal("0")],
                "Failed": [0, Decimal("0")]}
    for _, _, amount in orders:
        status = rng.choices(list(statuses), weights=(85, 10, 5))[0]
        statuses[status][0] += 1
        statuses[status][1] += amount
    tables["kpi_transaction_status"] = [(s, n, a, float(a) / float(total_revenue))
                                        for s, (n, a) in statuses.items()]

    # Products and categories.
    products = []
    product_id = 100
    for category, names in CATEGORIES.items():
        ranked = []
        for name in names:
            product_id += 1
            units = rng.randint(3, 120)
            revenue = money(units * rng.uniform(8, 180))
            reviews = rng.choice([0, 2, 5, 11, 24])
            rating = round(rng.uniform(1.8, 4.9), 2) if reviews else None
            ranked.append([f"{product_id:032x}", rng.choice(["old store", "new store"]),
                           product_id, name, category, revenue, units, rating, reviews,
                           rating is not None and rating < 3])
        ranked.sort(key=lambda p: -p[5])
        products += [tuple(p + [rank]) for rank, p in enumerate(ranked, 1)]
    tables["kpi_product_performance"] = products
    categories = []
    for category in CATEGORIES:
        members = [p for p in products if p[4] == category]
        reviewed = [p for p in members if p[7] is not None]
        review_count = sum(p[8] for p in members)
        rating = (round(sum(p[7] * p[8] for p in reviewed) / review_count, 2)
                  if review_count else None)
        categories.append((category, len(members), sum((p[5] for p in members), Decimal("0")),
                           sum(p[6] for p in members), rating, review_count,
                           rating is not None and rating < 3))
    tables["kpi_category_performance"] = categories

    # Shipments: state × carrier × status, then carriers.
    delivery = []
    carrier_totals: dict[str, list[float]] = defaultdict(lambda: [0, 0, 0, 0.0, 0])
    speed = {"FedEx": 3.2, "UPS": 4.1, "USPS": 5.6}
    for code in [*STATES, None]:
        for carrier in CARRIERS:
            for status in ("Delivered", "In Transit", "Returned"):
                shipments = rng.randint(1, 9) if status == "Delivered" else rng.randint(0, 2)
                if not shipments:
                    continue
                delivered = shipments if status == "Delivered" else 0
                durations = [max(1, round(rng.gauss(speed[carrier], 1.2)))
                             for _ in range(delivered)]
                total_days = float(sum(durations))
                delivery.append((code, STATES.get(code or ""), carrier, status, shipments,
                                 delivered, total_days,
                                 total_days / delivered if delivered else None))
                totals = carrier_totals[carrier]
                totals[0] += shipments
                totals[1] += 0 if status in OPEN_STATUSES else shipments
                totals[2] += delivered
                totals[3] += total_days
                totals[4] += sum(1 for d in durations if d <= 5)
    tables["kpi_delivery_by_state"] = delivery
    carriers = []
    for carrier, (shipments, finished, delivered, days, on_time) in sorted(
            carrier_totals.items()):
        carriers.append([carrier, shipments, finished, delivered, delivered / finished,
                         days / delivered, on_time, on_time / delivered])
    best = max(carriers, key=lambda c: (c[4], c[7], [-ord(ch) for ch in c[0]]))
    tables["kpi_carrier_performance"] = [tuple(c + [c is best]) for c in carriers]

    tables.update(filter_marts(orders, segments, products))
    tables["kpi_pipeline_run"] = [(RUN_DATE, dt.datetime(2024, 7, 1, 2, 14, 5),
                                   min(o[1] for o in orders), max(o[1] for o in orders),
                                   dt.datetime(2024, 7, 1, 2, 3, 41), 5)]
    tables["dim_customers"] = [
        (f"{n:032x}", "new store" if n % 3 else "old store", n, f"customer{n}@example.com",
         rng.choice(list(STATES)), dt.datetime(2023, 1, 1, 9, 30) + dt.timedelta(hours=7 * n),
         n % 4 != 0)
        for n in range(1, 61 + EXTRA_CUSTOMERS)]
    return tables


def store_of(state: str | None) -> str:
    """Customers without a state are the web store's (it records no addresses)."""
    return "old store" if state else "new store"


def filter_marts(orders: list[tuple[int, dt.date, Decimal]], segments: list[tuple[Any, ...]],
                 products: list[tuple[Any, ...]]) -> dict[str, list[tuple[Any, ...]]]:
    """The marts at the filters' grain, aggregated from the same orders, customers and
    products (their own generator, so the older marts keep their values)."""
    rng = random.Random(11)
    customer = {row[2]: row for row in segments}
    activity: dict[tuple[Any, ...], list[Any]] = defaultdict(lambda: [0, Decimal("0"), set()])
    cohorts: dict[tuple[Any, ...], set[int]] = defaultdict(set)
    payments: dict[tuple[Any, ...], list[Any]] = defaultdict(lambda: [0, Decimal("0")])
    for number, day, amount in orders:
        row = customer[number]
        store, state, segment, first = store_of(row[3]), row[3], row[8], row[4]
        cell = activity[(month_start(day), store, segment, state)]
        cell[0] += 1
        cell[1] += amount
        if month_start(day) == month_start(first):
            cell[2].add(number)
        cohorts[(month_start(first), months_between(first, day), store, segment, state)].add(
            number)
        if store == "old store":  # only the legacy store records payments
            status = rng.choices(("Completed", "Pending", "Failed"), weights=(85, 10, 5))[0]
            pay = payments[(month_start(day), store, status)]
            pay[0] += 1
            pay[1] += amount
    sales: dict[tuple[Any, ...], list[Any]] = defaultdict(lambda: [0, Decimal("0"), 0])
    for product in products:
        for _ in range(rng.randint(1, 6)):
            month = add_months(FIRST_MONTH, rng.randrange(0, MONTHS))
            line = sales[(month, product[1], product[4])]
            units = rng.randint(1, 9)
            line[0] += 1
            line[1] += money(units * rng.uniform(8, 180))
            line[2] += units
    ratings: dict[tuple[Any, ...], list[Any]] = defaultdict(
        lambda: [0, 0, 0, Decimal("0"), 0, 0.0, 0])
    for product in products:
        cell = ratings[(product[4], product[1])]
        cell[0] += 1
        cell[1] += product[7] is not None
        cell[2] += bool(product[9])
        cell[3] += product[5]
        cell[4] += product[6]
        cell[5] += (product[7] or 0.0) * product[8]
        cell[6] += product[8]
    shipments = []
    speed = {"FedEx": 3.2, "UPS": 4.1, "USPS": 5.6}
    for month in (add_months(FIRST_MONTH, i) for i in range(MONTHS)):
        for code in [*STATES, None]:
            for carrier in CARRIERS:
                for status in ("Delivered", "Shipped", "Pending", "Cancelled", "Returned"):
                    count = rng.randint(0, 6) if status == "Delivered" else rng.randint(0, 1)
                    if not count:
                        continue
                    days = [max(1, round(rng.gauss(speed[carrier], 1.2)))
                            for _ in range(count if status == "Delivered" else 0)]
                    finished = 0 if status in OPEN_STATUSES else count
                    shipments.append((month, "old store", code, carrier, status, count,
                                      finished, len(days), sum(days),
                                      sum(1 for d in days if d <= 5)))
    months_of: dict[int, set[dt.date]] = defaultdict(set)
    for number, day, _ in orders:
        months_of[number].add(month_start(day))
    active: dict[tuple[Any, ...], int] = defaultdict(int)
    for number, ordered in months_of.items():
        row = customer[number]
        previous = None
        for month in sorted(ordered):
            active[(month, previous, store_of(row[3]), row[8], row[3])] += 1
            previous = month
    return {
        "kpi_customer_activity": [(*key, n, revenue, len(new))
                                  for key, (n, revenue, new) in activity.items()],
        "kpi_active_customers": [(*key, n) for key, n in active.items()],
        "kpi_cohort_activity": [(*key, len(members)) for key, members in cohorts.items()],
        "kpi_payment_activity": [(*key, n, amount) for key, (n, amount) in payments.items()],
        "kpi_category_sales": [(*key, *values) for key, values in sales.items()],
        "kpi_category_ratings": [(*key, *values) for key, values in ratings.items()],
        "kpi_shipment_activity": shipments,
    }


def columns_of(name: str) -> tuple[tuple[str, str], ...]:
    if name == "dim_customers":
        return DIM_CUSTOMERS
    if name == "fct_customer_segments":
        return (("unified_customer_id", "text"), ("source_store", "text"),
                ("customer_id", "int"), ("state_code", "text"), ("first_order_date", "date"),
                ("last_order_date", "date"), ("orders", "int"), ("revenue", "money"),
                ("segment", "text"))
    return KPI_MARTS[name]


def write_marts(path: Path, empty: bool = False) -> dict[str, list[tuple[Any, ...]]]:
    """Create ``path`` with every mart in schema analytics; ``empty`` keeps them row-less."""
    tables = build_tables()
    connection = duckdb.connect(str(path))
    try:
        connection.execute(f"create schema if not exists {SCHEMA}")
        for name, rows in tables.items():
            columns = columns_of(name)
            ddl = ", ".join(f"{c} {column_type('duckdb', t)}" for c, t in columns)
            connection.execute(f"create or replace table {SCHEMA}.{name} ({ddl})")
            if rows and not empty:
                marks = ", ".join("?" for _ in columns)
                connection.executemany(f"insert into {SCHEMA}.{name} values ({marks})", rows)
    finally:
        connection.close()
    return {name: [] for name in tables} if empty else tables


def settings_for(database: Path, data_dir: Path, **extra: str) -> Settings:
    """Settings whose sync target is ``database`` (what `deltastore` reads from the env)."""
    return Settings.from_env({
        "DELTASTORE_DATA_DIR": str(data_dir),
        "DELTASTORE_SYNC_TARGET_URL": f"duckdb://{database}",
        **extra,
    })
