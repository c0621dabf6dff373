"""Build only what changed: the dbt nodes ``deltastore build --changed-only`` builds.

A daily run changes a few raw tables; most of the project reads others, and rebuilding it
gives the same tables again. So each recorded build keeps what it was built from
(``meta.dbt_builds.inputs``): per raw table, how many committed loads had changed it
(``meta.load_state`` rows with rows inserted, updated or deleted, plus the schema changes
the extracts landed: both written in the load's own transaction, and never taken back), and
a hash of the dbt target and vars. A node is built again when any of these holds:

- no recorded build ran it, or its latest result (skipped ones aside) did not pass;
- that build was of other project files (``project_fingerprint``), another target or vars;
- a raw table it reads, through any model, has been changed by a load since;
- it reads the date (``run_date()``, ``run_started_at``, ``current_timestamp``) and that
  build was for another run date or on another day;
- a node it reads was built after it (a build of part of the project, or a layer);
- its table or view is missing from the warehouse.

Whatever reads a node that is built is built too, with every data test on it; a unit test
runs on rows it is given, so only its own code counts, and the date unless the unit test
gives its model one (the var ``run_date`` in its overrides). The result is one
explicit ``fqn:`` selector per node, built with ``--indirect-selection empty``: a test on two
models runs when either is built (``buildable`` would leave it out), and a unit test only
when it is listed. Within a user's ``--select`` (the layer-by-layer DAG), dbt adds the tests
on what the intersection selects, as it always does.

What this trusts: that raw tables change only through ``deltastore extract``. A raw table
edited by hand is not seen; ``deltastore build`` without ``--changed-only`` builds everything.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from deltastore.db import classified, driver_errors
from deltastore.schemas import DBT_BUILDS, LOAD_STATE, SCHEMA_CHANGES
from deltastore.settings import Settings
from deltastore.sql_names import qualified, quote
from deltastore.transform.build_log import (
    columns_sql,
    last_results_sql,
    may_hold_builds,
    read_connection,
)
from deltastore.transform.retry import within
from deltastore.transform.runner import dbt_run_date, dbt_vars, parse_project, project_fingerprint
from deltastore.transform.verification import VERIFIED_MODELS, incremental_tests

# A result that stands: the node's table is what its inputs make (a warning changes nothing).
CURRENT_STATUSES = frozenset({"success", "pass", "warn"})
# What makes a node's result depend on the day it is built, in its SQL or its macros' SQL
# (in any case: the runner's DELTASTORE_DBT_RUN_DATE counts).
DATED_WORDS = ("run_date", "run_started_at", "current_timestamp")
# A unit test that sets the var `run_date` gives its model the date: the project's macros of
# that name read the var first. What the var does not pin: the run's clock, and the runner's
# variable read directly.
UNPINNED_WORDS = ("run_started_at", "current_timestamp", "dbt_run_date")
RUN_DATE_MACROS = frozenset({"run_date", "run_date_string"})
_RELATIONS = ("model", "seed", "snapshot")  # resource types that leave a table or view


@dataclass(frozen=True)
class Inputs:
    """What a build is built from: per raw table (``schema.table``, lower case) a count
    that grows with every load that changed it; and the target and vars, hashed."""

    sources: Mapping[str, int]
    context: str

    def to_json(self) -> str:
        return json.dumps({"context": self.context, "sources": dict(sorted(self.sources.items()))})

    @classmethod
    def from_json(cls, text: str | None) -> Inputs | None:
        """None when the build recorded none (it ran before builds recorded them)."""
        if not text:
            return None
        try:
            data = json.loads(text)
            return cls({str(k): int(v) for k, v in data["sources"].items()}, str(data["context"]))
        except (ValueError, KeyError, TypeError, AttributeError):
            return None


def build_context(target: str, variables: Mapping[str, Any]) -> str:
    """The target and vars a build ran with, hashed; the run date is compared on its own."""
    chosen = {k: v for k, v in variables.items() if k != "run_date"}
    text = json.dumps({"target": target, "vars": chosen}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


# --- the project's graph ----------------------------------------------------------------

@dataclass(frozen=True)
class GraphNode:
    unique_id: str
    resource_type: str             # model, seed, snapshot, test, unit_test
    fqn: tuple[str, ...]
    parents: tuple[str, ...]       # nodes and sources it reads
    dated: bool                    # its result depends on the day it is built
    relation: tuple[str, str] | None  # (schema, name) it leaves, lower case; None: none


@dataclass(frozen=True)
class Graph:
    nodes: Mapping[str, GraphNode]
    sources: Mapping[str, str]     # source unique id -> raw table, `schema.table` lower case

    def raw_tables(self, uid: str) -> set[str]:
        """The raw tables a node reads, through any number of nodes."""
        seen: set[str] = set()
        tables: set[str] = set()
        todo = [uid]
        while todo:
            current = todo.pop()
            if current in seen:
                continue
            seen.add(current)
            if current in self.sources:
                tables.add(self.sources[current])
            elif current in self.nodes:
                todo += self.nodes[current].parents
        return tables

    def selected_by(self, ids: Iterable[str]) -> set[str]:
        """The nodes dbt selects with ``fqn:<fqn>`` of each of ``ids``."""
        wanted = [self.nodes[uid].fqn for uid in ids]
        return {uid for uid, node in self.nodes.items()
                if any(_fqn_selects(fqn, node.fqn) for fqn in wanted)}

    def descendants(self, roots: Iterable[str]) -> set[str]:
        children: dict[str, list[str]] = {}
        for node in self.nodes.values():
            for parent in node.parents:
                children.setdefault(parent, []).append(node.unique_id)
        seen: set[str] = set()
        todo = list(roots)
        while todo:
            current = todo.pop()
            if current in seen:
                continue
            seen.add(current)
            todo += children.get(current, ())
        return seen


def project_graph(manifest: Any) -> Graph:
    """The graph of a parsed project (dbt's ``Manifest``); ephemeral models are not nodes
    of their own: whoever reads one reads its parents."""
    macros = manifest.macros
    dated_macros: dict[tuple[str, str | None], bool] = {}

    def macro_dated(uid: str, pinned: str | None, path: tuple[str, ...] = ()) -> bool:
        """``pinned``: the package whose run-date macros give a unit test's own date."""
        key = (uid, pinned)
        if key not in dated_macros:
            macro = macros.get(uid)
            if macro is None or uid in path:
                return False
            if macro.package_name == pinned and macro.name in RUN_DATE_MACROS:
                dated_macros[key] = False
            else:
                dated_macros[key] = _mentions_date(macro.macro_sql, pinned) or any(
                    macro_dated(m, pinned, (*path, uid)) for m in macro.depends_on.macros)
        return dated_macros[key]

    raw = dict(manifest.nodes)
    raw.update(manifest.unit_tests or {})
    ephemeral = {uid for uid, n in raw.items()
                 if n.resource_type == "model" and n.config.materialized == "ephemeral"}

    def node_parents(uid: str) -> list[str]:
        return list(getattr(raw[uid].depends_on, "nodes", ()))  # a seed's lists macros only

    def parents_of(uid: str) -> tuple[str, ...]:
        out: list[str] = []
        for parent in node_parents(uid):
            out += parents_of(parent) if parent in ephemeral else [parent]
        return tuple(dict.fromkeys(out))

    def dated(uid: str, pinned: str | None = None) -> bool:
        node = raw[uid]
        if node.resource_type == "unit_test":  # the model's SQL on given rows
            pinned = _run_date_pinned_by(node)
            return any(dated(p, pinned) for p in node_parents(uid) if p in raw)
        own = _mentions_date(getattr(node, "raw_code", "") or "", pinned) or any(
            macro_dated(m, pinned) for m in node.depends_on.macros)
        return own or any(dated(p, pinned) for p in node_parents(uid) if p in ephemeral)

    nodes = {}
    for uid, node in raw.items():
        if uid in ephemeral or node.resource_type not in (*_RELATIONS, "test", "unit_test"):
            continue
        relation = None
        if node.resource_type in _RELATIONS:
            relation = (str(node.schema).lower(), str(node.alias or node.name).lower())
        nodes[uid] = GraphNode(uid, str(node.resource_type), tuple(node.fqn), parents_of(uid),
                               dated(uid), relation)
    sources = {uid: f"{s.schema}.{s.identifier or s.name}".lower()
               for uid, s in manifest.sources.items()}
    return Graph(nodes, sources)


def _fqn_selects(selector: tuple[str, ...], fqn: tuple[str, ...]) -> bool:
    """dbt's ``fqn:`` method (graph/selector_methods.py ``is_selected_node``, called with
    the fqn and without its package): the leaf's name, or a prefix of the dotted parts."""
    if fqn and fqn[-1] == ".".join(selector):
        return True
    flat = [part for segment in fqn for part in segment.split(".")]
    parts = [part for segment in selector for part in segment.split(".")]
    return any(candidate[:len(parts)] == parts for candidate in (flat, flat[1:]))


def _mentions_date(sql: str, pinned: str | None = None) -> bool:
    text = sql.lower()
    return any(word in text for word in (UNPINNED_WORDS if pinned else DATED_WORDS))


def _run_date_pinned_by(unit_test: Any) -> str | None:
    """The unit test's package when it sets the var ``run_date`` (dbt's ``overrides``), so
    that its result never depends on the day it runs. dbt's own advice is to run unit tests
    in development and CI, not on every production build: their inputs are given
    (docs.getdbt.com, "Unit tests"). Here one runs again when its code changes, and, if its
    model reads the date, only when the date is not pinned."""
    given = getattr(getattr(unit_test, "overrides", None), "vars", None) or {}
    return str(unit_test.package_name) if given.get("run_date") not in (None, "") else None


# --- the plan -----------------------------------------------------------------------------

@dataclass(frozen=True)
class LastResult:
    """A node's latest recorded result (skipped ones aside) and the build it came from."""

    status: str
    recorded_at: dt.datetime
    project_hash: str | None
    run_date: str | None
    inputs: Inputs | None


@dataclass(frozen=True)
class ChangedPlan:
    """What to build (``selectors``: None = everything, empty = nothing), and why."""

    selectors: tuple[str, ...] | None
    reason: str
    stale: Mapping[str, str] = field(default_factory=dict)  # node -> why it is built again
    # What the selectors take in besides (dbt's `fqn:` matches by prefix, so a model's
    # selects its unit tests), to be excluded.
    excluded: tuple[str, ...] = ()

    def selection(self, user_select: str) -> str:
        return within(self.selectors, user_select)


def why_stale(node: GraphNode, last: LastResult | None, *, graph: Graph,
              results: Mapping[str, LastResult], inputs: Inputs, project_hash: str,
              run_date: str, today: dt.date, relations: set[tuple[str, str]]) -> str | None:
    """Why ``node`` must be built again, or None when its last result stands."""
    if last is None:
        return "never built"
    if last.status not in CURRENT_STATUSES:
        return f"its last result was `{last.status}`"
    if last.project_hash != project_hash:
        return "the dbt project's files changed"
    if last.inputs is None:
        return "its last build did not record what it read"
    if last.inputs.context != inputs.context:
        return "the dbt target or vars changed"
    if node.dated and (last.run_date != run_date or last.recorded_at.date() != today):
        return "it reads the date, and the date changed"
    if node.resource_type == "unit_test":
        return None  # it reads given rows, not the warehouse's: only code and date count
    for table in sorted(graph.raw_tables(node.unique_id)):
        if last.inputs.sources.get(table, 0) != inputs.sources.get(table, 0):
            return f"`{table}` was loaded with changes"
    for parent in node.parents:
        before = results.get(parent)
        if before is not None and before.recorded_at > last.recorded_at:
            return f"`{parent}` was built after it"
    if node.relation is not None and node.relation not in relations:
        return f"`{'.'.join(node.relation)}` is missing from the warehouse"
    return None


def plan_changed(graph: Graph, results: Mapping[str, LastResult], *, inputs: Inputs,
                 project_hash: str, run_date: str, today: dt.date,
                 relations: set[tuple[str, str]],
                 asked: Mapping[str, str] | None = None) -> ChangedPlan:
    """``asked``: nodes to build whatever changed, with why (node -> reason)."""
    stale = {}
    for uid, node in graph.nodes.items():
        why = why_stale(node, results.get(uid), graph=graph, results=results, inputs=inputs,
                        project_hash=project_hash, run_date=run_date, today=today,
                        relations=relations) or (asked or {}).get(uid)
        if why is not None:
            stale[uid] = why
    if not stale:
        return ChangedPlan((), "nothing changed since the last build: nothing to build")
    # A unit test is built when it is stale itself: the data under its model is not its.
    built = {uid for uid in graph.descendants(stale) & set(graph.nodes)
             if uid in stale or graph.nodes[uid].resource_type != "unit_test"}
    if len(built) == len(graph.nodes):
        example = sorted(stale.items())[0]
        return ChangedPlan(None, f"building every node ({len(stale)} changed, e.g. "
                                 f"`{example[0]}`: {example[1]})", stale)
    extra = graph.selected_by(built) - built
    if graph.selected_by(built) - graph.selected_by(extra) != built:
        return ChangedPlan(None, "building every node: the nodes to build cannot be selected "
                                 "apart from the others by name", stale)
    selectors, excluded = (tuple(sorted(f"fqn:{'.'.join(graph.nodes[uid].fqn)}" for uid in ids))
                           for ids in (built, extra))
    counts = Counter(stale.values()).most_common()
    shown = "; ".join(f"{n} because {why}" for why, n in counts[:4])
    more = f"; {len(stale) - sum(n for _, n in counts[:4])} for other reasons" \
        if len(counts) > 4 else ""
    return ChangedPlan(selectors, f"building {len(built)} of {len(graph.nodes)} nodes: "
                                  f"{len(stale)} changed ({shown}{more}), and what reads "
                                  "them", stale, excluded)


# --- reading the warehouse ----------------------------------------------------------------

def source_markers_sql(kind: str, with_schema_changes: bool) -> str:
    """Per raw table, the loads that changed it (and the schema changes the extracts met)."""
    name, ins, upd, dele = (quote(kind, c) for c in ("table_name", "rows_inserted",
                                                      "rows_updated", "rows_deleted"))
    loads = (f"SELECT LOWER({name}) AS t FROM "
             f"{qualified(kind, LOAD_STATE.schema, LOAD_STATE.name)} "
             f"WHERE COALESCE({ins}, 0) + COALESCE({upd}, 0) + COALESCE({dele}, 0) > 0")
    if with_schema_changes:
        loads += (f" UNION ALL SELECT LOWER({name}) AS t FROM "
                  f"{qualified(kind, SCHEMA_CHANGES.schema, SCHEMA_CHANGES.name)}")
    return f"SELECT t, COUNT(*) FROM ({loads}) AS changes GROUP BY t"


def relations_sql() -> str:
    # Upper case: a case-sensitive SQL Server database names its catalog views so.
    return "SELECT TABLE_SCHEMA, TABLE_NAME FROM INFORMATION_SCHEMA.TABLES"


def last_whole_test_sql(kind: str) -> str:
    """The oldest last whole test of a verified incremental model."""
    return f"SELECT MIN(whole_at) FROM {qualified(kind, *VERIFIED_MODELS)}"


def _tables(cursor: Any) -> set[tuple[str, str]]:
    cursor.execute(relations_sql())
    return {(str(s), str(n)) for s, n in cursor.fetchall()}


@dataclass(frozen=True)
class WarehouseState:
    markers: dict[str, int]
    results: dict[str, LastResult]
    named: set[tuple[str, str]]  # the warehouse's tables and views, spelled as it spells them
    # When the incremental models' tests last all read whole tables (transform/verification.py)
    tested_whole_at: dt.datetime | None = None

    @property
    def relations(self) -> set[tuple[str, str]]:
        return _lowered(self.named)


def _lowered(named: set[tuple[str, str]]) -> set[tuple[str, str]]:
    """Tables in lower case, as nodes are matched with them."""
    return {(schema.lower(), name.lower()) for schema, name in named}


def read_state(settings: Settings) -> WarehouseState:
    """The load markers, every node's last result and the warehouse's tables, read once on
    a read-only connection (nothing yet: all empty)."""
    url = settings.warehouse_url
    kind = url.kind
    if not may_hold_builds(url):
        return WarehouseState({}, {}, set())
    connection = read_connection(url)
    try:
        cursor = connection.cursor()
        named = _tables(cursor)
        relations = _lowered(named)
        markers: dict[str, int] = {}
        if (LOAD_STATE.schema, LOAD_STATE.name) in relations:
            with_changes = (SCHEMA_CHANGES.schema, SCHEMA_CHANGES.name) in relations
            cursor.execute(source_markers_sql(kind, with_changes))
            markers = {str(t): int(n) for t, n in cursor.fetchall()}
        results: dict[str, LastResult] = {}
        if (DBT_BUILDS.schema, DBT_BUILDS.name) in relations and _has_inputs(cursor):
            cursor.execute(last_results_sql(kind))
            results = {str(u): LastResult(str(s), r, p, d, Inputs.from_json(i))
                       for u, s, r, p, d, i in cursor.fetchall()}
        tested_whole_at = None
        if VERIFIED_MODELS in relations:
            cursor.execute(last_whole_test_sql(kind))
            tested_whole_at = cursor.fetchone()[0]
    except driver_errors(kind) as exc:
        raise classified(kind, exc, f"reading the build record in `{url}`") from None
    finally:
        connection.close()
    return WarehouseState(markers, results, named, tested_whole_at)


def _has_inputs(cursor: Any) -> bool:
    """Builds recorded before the ``inputs`` column existed are of no use here."""
    cursor.execute(columns_sql(), (DBT_BUILDS.schema, DBT_BUILDS.name))
    return "inputs" in {str(name) for (name,) in cursor.fetchall()}


def current_inputs(settings: Settings, state: WarehouseState, *, target: str | None = None,
                   extra_vars: Mapping[str, Any] | None = None) -> Inputs:
    return Inputs(state.markers, build_context(target or settings.dbt_target,
                                               dbt_vars(settings, extra_vars)))


def changed_plan(settings: Settings, state: WarehouseState, inputs: Inputs, *,
                 run_date: dt.date | None = None,
                 extra_vars: Mapping[str, Any] | None = None,
                 target: str | None = None, whole_tables: bool = False) -> ChangedPlan:
    """``plan_changed`` for the next ``deltastore build`` with these options;
    ``whole_tables`` (--verify-whole-tables) adds every data test of the incremental
    models, changed or not."""
    if not state.results:
        return ChangedPlan(None, "no build recorded what it was built from: building "
                                 "everything")
    manifest = parse_project(settings, run_date=run_date, extra_vars=extra_vars,
                             target=target)
    asked = dict.fromkeys(incremental_tests(manifest) if whole_tables else [],
                          "it tests an incremental model, whose tables are tested whole")
    return plan_changed(project_graph(manifest), state.results, inputs=inputs,
                        project_hash=project_fingerprint(settings.dbt_project_dir),
                        run_date=dbt_run_date(settings, run_date, extra_vars),
                        today=dt.datetime.now(dt.UTC).date(), relations=state.relations,
                        asked=asked)
