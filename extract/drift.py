"""Schema drift: where a source no longer matches its contract, and what the extract does.

Found before anything is loaded, by comparing
- each legacy table's columns in the database's catalog (extract/sources/legacy_catalog.py)
  with the raw-table contract (deltastore/schemas.py) and with the columns the last load saw
  (``meta.source_columns``);
- each store API endpoint's records with its contract (extract/sources/store_contract.py):
  fields it does not name, and fields missing or of another type in too many records.

What happens (``DELTASTORE_SCHEMA_CHANGES``):
- a **new** column or field: ``evolve`` lands it in a new nullable raw column (added in the
  load's own transaction; a legacy table is then read whole once, so the rows loaded before
  get its values too), ``freeze`` stops the extract, ``ignore`` leaves it out;
- a column the contract needs that is **missing** or **retyped** beyond what its raw column
  holds stops the source whatever the policy, with one message naming the table, the
  column, the columns there now and the likely rename; so does a store API field missing
  or of another type in more than ``DELTASTORE_MAX_REJECT_SHARE`` of a page's records;
- a type or nullability that changed but still fits is accepted.
Every change is a ``SchemaChange``; each is recorded in ``meta.schema_changes`` and reported
once (a stop is repeated on every run until fixed, and recorded once).
"""

from __future__ import annotations

import bisect
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from deltastore.errors import DataError
from deltastore.extract.sources.legacy_catalog import SourceColumn, lands_as, problem
from deltastore.extract.sources.store_contract import (
    CART_ITEM_FIELDS,
    FIELDS,
    ITEMS,
    NewField,
)
from deltastore.schema_changes import (
    ACCEPTED,
    ADDED,
    LANDED,
    MISSING,
    NOT_LANDED,
    NULLABILITY,
    RETYPED,
    STOPPED,
    SchemaChange,
    SchemaHistory,
    warehouse_history,
)
from deltastore.schemas import LOAD_COLUMNS, OLD_STORE_TABLES, Table
from deltastore.settings import EVOLVE, FREEZE, Settings

STORE_API = "store-api"
LEGACY_DB = "legacy-db"
Seen = Mapping[str, tuple[str, bool]]  # column -> (declared type, nullable) at the last load
_FREEZE_FIX = ("DELTASTORE_SCHEMA_CHANGES is `freeze`: set it to `evolve` to land it or "
               "`ignore` to leave it out")


@dataclass(frozen=True)
class TablePlan:
    """What the extract does with one legacy table, decided before reading a row."""

    table: Table                                 # the contract's columns + new ones landed
    new_columns: tuple[tuple[str, str], ...]     # raw columns to add, (name, logical type)
    changes: tuple[SchemaChange, ...]            # every difference found now
    catalog: tuple[tuple[str, str, bool], ...]   # the live columns, remembered after the load

    @property
    def stops(self) -> bool:
        return any(c.stops for c in self.changes)


def plan_legacy_table(table: Table, live: Sequence[SourceColumn], seen: Seen | None,
                      policy: str, kind: str) -> TablePlan:
    """Compare a table's live columns with its contract (and with ``seen``, the columns of
    the last load, if any); decide what the load does."""
    contract = dict(table.columns)
    by_name = {c.name: c for c in live}
    seen = seen or {}
    added = [c for c in live if c.name not in contract]
    now = ", ".join(f"`{c.name}`" for c in live)

    def change(column: str, kind_of_change: str, old: str | None, new: str | None,
               action: str, detail: str = "") -> SchemaChange:
        return SchemaChange(LEGACY_DB, table.qualified_name, column, kind_of_change, old, new,
                            policy, action, detail)

    changes: list[SchemaChange] = []
    for name, logical in table.columns:
        was = seen.get(name)
        col = by_name.get(name)
        if col is None:
            hint = _rename_hint(name, logical, was[0] if was else None, added, kind)
            changes.append(change(name, MISSING, was[0] if was else logical, None, STOPPED,
                                  f"the table's columns now are {now}" + hint))
            continue
        why = problem(col, logical, kind)
        if why is not None:
            changes.append(change(name, RETYPED, was[0] if was else logical, col.data_type,
                                  STOPPED, f"the contract's `{logical}` column cannot hold it: "
                                  f"{why}"))
        elif was is not None and was[0] != col.data_type:
            changes.append(change(name, RETYPED, was[0], col.data_type, ACCEPTED,
                                  f"still fits the contract's `{logical}`"))
        if was is not None and was[1] != col.nullable:
            changes.append(change(name, NULLABILITY, _nullability(was[1]),
                                  _nullability(col.nullable), ACCEPTED))
    new_columns = []
    load_columns = {c for c, _ in LOAD_COLUMNS}
    for col in added:
        logical_type = lands_as(col, kind)
        if policy == FREEZE:
            changes.append(change(col.name, ADDED, None, col.data_type, STOPPED, _FREEZE_FIX))
        elif logical_type is None or col.name in load_columns:
            why = ("no raw column type holds it" if logical_type is None
                   else "its name is one of the raw table's load columns")
            changes.append(change(col.name, ADDED, None, col.data_type, NOT_LANDED, why))
        elif policy == EVOLVE:
            new_columns.append((col.name, logical_type))
            changes.append(change(col.name, ADDED, None, col.data_type, LANDED,
                                  f"as `{logical_type}`"))
        else:
            changes.append(change(col.name, ADDED, None, col.data_type, NOT_LANDED))
        was = seen.get(col.name)
        if was is not None and was[0] != col.data_type:
            changes.append(change(col.name, RETYPED, was[0], col.data_type, ACCEPTED))
    for name, (data_type, _) in seen.items():
        if name not in contract and name not in by_name:
            changes.append(change(name, MISSING, data_type, None, ACCEPTED,
                                  "not in the contract: its raw column keeps what was loaded"))
    evolved = Table(table.schema, table.name, table.columns + tuple(new_columns),
                    table.primary_key, table.watermark)
    return TablePlan(evolved, tuple(new_columns), tuple(changes),
                     tuple((c.name, c.data_type, c.nullable) for c in live))


def _nullability(nullable: bool) -> str:
    return "NULL" if nullable else "NOT NULL"


def _rename_hint(missing: str, logical: str, was: str | None,
                 added: Sequence[SourceColumn], kind: str) -> str:
    """``; `price` is gone and `unit_price` is new with the same type (`NUMERIC`): renamed?``"""
    fitting = [c for c in added if problem(c, logical, kind) is None]
    same = [c for c in fitting if c.data_type == was]
    candidates = same or fitting
    if not candidates:
        return ""
    if len(candidates) == 1:
        new = candidates[0]
        how = (f"the same type (`{new.data_type}`)" if same
               else f"a type that fits `{logical}` (`{new.data_type}`)")
        return f"; `{missing}` is gone and `{new.name}` is new with {how}: renamed?"
    names = ", ".join(f"`{c.name}`" for c in candidates)
    return f"; `{missing}` is gone and {names} are new with types that fit: one renamed?"


# --- store API -------------------------------------------------------------------------

def store_new_field_changes(table: Table, found: Iterable[NewField], landed: set[str],
                            policy: str) -> list[SchemaChange]:
    """A change per new field of an endpoint (named as in the records, ``rating.stars``);
    ``landed`` are the raw columns new fields went to."""
    changes = []
    for new in found:
        if policy == FREEZE:
            action, detail = STOPPED, _FREEZE_FIX
        elif policy == EVOLVE and new.column in landed:
            action, detail = LANDED, f"as `{new.lands_as}` in column `{new.column}`"
        elif policy == EVOLVE:
            action, detail = NOT_LANDED, _why_not_landed(new)
        else:
            action, detail = NOT_LANDED, ""
        changes.append(SchemaChange(STORE_API, table.qualified_name, new.label, ADDED, None,
                                    new.json_type, policy, action, detail))
    return changes


def _why_not_landed(new: NewField) -> str:
    if ITEMS in new.keys:
        return "a field of a cart's lines, which are summed per product, has no column"
    if new.lands_as is None:
        return "its name is no plain column name"
    return f"the table has a column `{new.column}` already"


@dataclass(frozen=True)
class RejectedField:
    """One record rejected for one field (from the landing's rejects)."""

    n: int                # the record's place in the endpoint's snapshot
    field: str            # `price`, `rating.count`, `products[].quantity`
    problem: str          # missing | type
    got: str | None       # the JSON type received


def store_reject_changes(endpoint: str, table: Table, pages: Sequence[tuple[int, int]],
                         rejected: Iterable[RejectedField], share: float, policy: str,
                         found: Sequence[NewField]) -> list[SchemaChange]:
    """A stopping change per field that more than ``share`` of some page's records were
    rejected for: the API changed the field, these are not a few bad records."""
    starts = [first for first, _ in pages]
    counts: Counter[tuple[int, str, str, str | None]] = Counter()
    for r in rejected:
        page = max(0, bisect.bisect_right(starts, r.n) - 1)
        counts[(page, r.field, r.problem, r.got)] += 1
    worst: dict[tuple[str, str, str | None], tuple[int, int]] = {}
    for (page, field, what, got), count in counts.items():
        size = pages[page][1] if pages else count
        if count > share * size and count / size > _share_of(worst.get((field, what, got))):
            worst[(field, what, got)] = (count, size)
    kinds = _field_kinds(endpoint)
    changes = []
    for (field, what, got), (count, size) in sorted(worst.items()):
        expected = kinds.get(field, "")
        share_text = (f"in {count} of the {size} records of a page (more than "
                      f"DELTASTORE_MAX_REJECT_SHARE `{share:g}`)")
        if what == "missing":
            detail = f"missing {share_text}" + _store_rename_hint(field, expected, found)
            changes.append(SchemaChange(STORE_API, table.qualified_name, field, MISSING,
                                        expected, None, policy, STOPPED, detail))
        else:
            detail = f"{got} where the contract expects {expected} {share_text}"
            changes.append(SchemaChange(STORE_API, table.qualified_name, field, RETYPED,
                                        expected, got, policy, STOPPED, detail))
    return changes


def _share_of(counted: tuple[int, int] | None) -> float:
    return 0.0 if counted is None else counted[0] / counted[1]


def _field_kinds(endpoint: str) -> dict[str, str]:
    """Each field the records are checked for, with the JSON it must be."""
    kinds = {".".join(f.keys[:d]): "object" for f in FIELDS[endpoint]
             for d in range(1, len(f.keys))}
    kinds.update({f.label: _JSON_KIND[f.kind] for f in FIELDS[endpoint]})
    if endpoint == "carts":
        kinds["products"] = "array"
        kinds.update({f"products{ITEMS}.{f.label}": _JSON_KIND[f.kind]
                      for f in CART_ITEM_FIELDS})
    return kinds


_JSON_KIND = {"integer": "integer", "number": "number", "text": "string",
              "textish": "string", "utc_timestamp": "string"}
_FITS = {"integer": {"integer"}, "number": {"integer", "number"}, "string": {"string"},
         "object": set(), "array": {"array"}}


def _store_rename_hint(field: str, expected: str, found: Sequence[NewField]) -> str:
    candidates = [f for f in found if f.json_type in _FITS.get(expected, set())
                  and f.label.count(".") == field.count(".")]
    if len(candidates) != 1:
        return ""
    return (f"; `{field}` is gone and `{candidates[0].label}` is new ({candidates[0].json_type}):"
            " renamed?")


# --- both ------------------------------------------------------------------------------

def not_recorded(changes: Iterable[SchemaChange],
                 recorded: set[tuple[object, ...]]) -> list[SchemaChange]:
    """The changes not recorded before, each once: what this run reports and records."""
    fresh: dict[tuple[object, ...], SchemaChange] = {}
    for c in changes:
        if c.key not in recorded:
            fresh.setdefault(c.key, c)
    return list(fresh.values())


def stop_error(source: str, changes: Sequence[SchemaChange]) -> DataError:
    """One message for every change that stops ``source`` (exit 3)."""
    stopping = [c for c in changes if c.stops]
    what = "the legacy DB" if source == LEGACY_DB else "the store API"
    contract = ("deltastore/schemas.py" if source == LEGACY_DB
                else "extract/sources/store_contract.py")
    lines = [f"{what} no longer matches its contract ({contract}); nothing was loaded "
             f"from it:"]
    lines += [f"- `{c.table}` {'field' if source == STORE_API else 'column'} `{c.column}`: "
              + stop_text(c) for c in stopping]
    lines.append("Fix the source, or change the contract and the staging model to match; "
                 "then rerun (docs/operations.md, \"Schema changes\").")
    return DataError("\n".join(lines))


def stop_text(c: SchemaChange) -> str:
    """Why a change stops its source, after the column's name."""
    if c.change == ADDED:
        return f"new ({c.new_type}), and {c.detail}"
    if c.change == MISSING and c.source == LEGACY_DB:
        return f"missing; {c.detail}"
    if c.change == RETYPED and c.source == LEGACY_DB:
        return f"now `{c.new_type}`; {c.detail}"
    return c.detail


# --- without loading (deltastore doctor) ------------------------------------------------

def legacy_plans(settings: Settings, live: Mapping[str, Sequence[SourceColumn]],
                 history: SchemaHistory, tables: Sequence[Table] = OLD_STORE_TABLES,
                 ) -> list[tuple[Table, list[SchemaChange]]]:
    """Per table, what the next legacy extract would do with these live columns: every
    change that would stop it, and the others it would report (not recorded before)."""
    found = []
    for table in tables:
        plan = plan_legacy_table(table, live[table.name], history.seen.get(table.qualified_name),
                                 settings.schema_changes, settings.legacy_db_url.kind)
        found.append((table, [c for c in plan.changes
                              if c.stops or c.key not in history.recorded]))
    return found


def legacy_drift(settings: Settings,
                 tables: Sequence[Table] = OLD_STORE_TABLES) -> list[SchemaChange]:
    """What the next legacy extract would find, read from the catalogs without loading
    anything: the changes it would report and every one that would stop it
    (``SchemaChange.stops``), each with ``line()`` to print.

    A missing table raises ConfigError; an unreachable database the error of its kind."""
    from deltastore.extract.sources.legacy_db import LegacyReader

    with LegacyReader(settings.legacy_db_url, settings.batch_size,
                      settings.legacy_db_schema) as reader:
        live = reader.catalog(tables)
    history = warehouse_history(settings.warehouse_url, LEGACY_DB)
    return [c for _, changes in legacy_plans(settings, live, history, tables) for c in changes]
