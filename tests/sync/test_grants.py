"""The documented grant scripts (docs/sql-server/*.sql, which mssql.yml runs verbatim) grant
exactly what the code's grant lists say each login needs, and doctor checks those lists.

The scripts are sqlcmd scripts: ``$(NAME)`` is a scripting variable given with ``-v``.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from deltastore.extract.preflight import legacy_grants
from deltastore.preflight import Grant
from deltastore.schemas import OLD_STORE_TABLES
from deltastore.sync.grants import BI_READER_GRANTS, SCHEMAS, SYNC_TARGET_GRANTS
from deltastore.transform.preflight import DBT_SCHEMAS, WAREHOUSE_GRANTS

REPO = Path(__file__).resolve().parents[2]
SCRIPTS = REPO / "docs" / "sql-server"

# script -> (its sqlcmd variables, the grants per user variable)
EXPECTED: dict[str, tuple[set[str], dict[str, tuple[Grant, ...]]]] = {
    "legacy-reader.sql": ({"READER_USER", "LEGACY_SCHEMA", "USER_FROM"},
                          {"READER_USER": legacy_grants("$(LEGACY_SCHEMA)")}),
    "warehouse.sql": ({"WAREHOUSE_USER", "USER_FROM"}, {"WAREHOUSE_USER": WAREHOUSE_GRANTS}),
    "sync-target.sql": ({"SYNC_USER", "BI_USER", "USER_FROM"},
                        {"SYNC_USER": SYNC_TARGET_GRANTS, "BI_USER": BI_READER_GRANTS}),
}


def statements(script: str) -> list[str]:
    """The script's statements outside comments, one per line (as the scripts are written)."""
    text = (SCRIPTS / script).read_text()
    return [line.strip() for line in text.splitlines()
            if line.strip() and not line.strip().startswith("--")]


@pytest.mark.parametrize("script", list(EXPECTED))
def test_each_script_grants_exactly_what_its_login_needs(script: str) -> None:
    variables, grants = EXPECTED[script]
    text = (SCRIPTS / script).read_text()
    assert set(re.findall(r"\$\((\w+)\)", text)) == variables
    granted = [s for s in statements(script) if s.startswith("GRANT ")]
    expected = [g.statement(f"$({user})") for user, listed in grants.items() for g in listed]
    assert granted == expected
    # Nothing wider than the lists: no role membership, no db_owner, no DENY or REVOKE.
    assert not [s for s in statements(script)
                if re.match(r"(ALTER ROLE|EXEC sp_addrolemember|DENY|REVOKE)", s)]
    # Each user is created for a login, or for an Entra identity (USER_FROM).
    for user in grants:
        assert f"IF USER_ID(N'$({user})') IS NULL" in statements(script)


def test_the_legacy_script_covers_every_table_the_extract_reads() -> None:
    granted = {re.search(r"\]\.\[(\w+)\]", s).group(1)  # type: ignore[union-attr]
               for s in statements("legacy-reader.sql") if s.startswith("GRANT SELECT")}
    assert granted == {t.name for t in OLD_STORE_TABLES}


def test_the_target_script_creates_the_three_schemas_owned_by_dbo() -> None:
    created = re.findall(r"CREATE SCHEMA \[(\w+)\] AUTHORIZATION \[dbo\]",
                         (SCRIPTS / "sync-target.sql").read_text())
    assert sorted(created) == sorted(SCHEMAS)


def test_the_warehouse_schemas_are_the_dbt_projects() -> None:
    """The schemas the warehouse login owns: dbt's `+schema` folders and the prod target's
    own schema, where dbt-sqlserver makes its unit tests' views."""
    project = yaml.safe_load((REPO / "dbt" / "dbt_project.yml").read_text())
    profile = yaml.safe_load((REPO / "dbt" / "profiles.yml").read_text())
    configured: set[str] = set()

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "+schema":
                    configured.add(str(value))
                walk(value)

    for section in ("models", "seeds", "snapshots"):
        walk(project[section])
    configured.add(profile["deltastore"]["outputs"]["prod"]["schema"])
    assert configured == set(DBT_SCHEMAS)
    for schema in DBT_SCHEMAS:
        assert schema in (SCRIPTS / "warehouse.sql").read_text()


def test_grant_statements_and_checks_quote_every_name() -> None:
    grant = Grant("SELECT", "OBJECT", "old]store.orders", "x")
    assert grant.statement("o'brien]") == "GRANT SELECT ON [old]]store].[orders] TO [o'brien]]];"
    assert grant.holds_sql() == ("HAS_PERMS_BY_NAME(N'[old]]store].[orders]', N'OBJECT', "
                                 "N'SELECT')")
    database = Grant("CREATE TABLE", "DATABASE", None, "x")
    assert database.statement("sync") == "GRANT CREATE TABLE TO [sync];"
    assert database.holds_sql() == "HAS_PERMS_BY_NAME(DB_NAME(), N'DATABASE', N'CREATE TABLE')"
