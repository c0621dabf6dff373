"""The dbt runner and `deltastore build|freshness|slo|docs`, on real dbt runs.

A tiny project (tests/transform/dbt_mini_project, copied to a temp folder) is built into a
real DuckDB file; its vars `min_customers` / `break_model` make a test fail or a model
error on purpose. The real project's layers are checked in tests/dbt/test_tsql_compile.py.
"""

from __future__ import annotations

import datetime as dt
import gc
import json
import os
import shutil
from pathlib import Path

import duckdb
import pytest

from deltastore.errors import ConfigError, DataError, TransientError
from deltastore.settings import Settings
from deltastore.sync.gate import check_build_gate
from deltastore.transform.build_log import last_build
from deltastore.transform.manifest import dbt_layers
from deltastore.transform.runner import (
    DbtRun,
    NodeResult,
    dbt_args,
    dbt_environment,
    dbt_run_date,
    run_dbt,
    target_dir,
)
from deltastore.transform.slo import check_slo
from deltastore.workflows import cli

MINI_PROJECT = Path(__file__).parent / "dbt_mini_project"


def _load_raw(warehouse: Path, loaded_at: str = "now()") -> None:
    """The raw table the mini project's source points at (what `deltastore extract` does)."""
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create schema if not exists shop")
        con.execute(
            "create or replace table shop.customers as "
            f"select * from (values (1, 'CA', 'Ann'), (2, 'NY', 'Bob'), (3, 'CA', 'Cy')) "
            f"as t (id, state, name), (select ({loaded_at})::timestamp as _loaded_at)"
        )


def _env(root: Path, project: Path) -> dict[str, str]:
    return {"DELTASTORE_DATA_DIR": str(root / "data"), "DELTASTORE_DBT_PROJECT_DIR": str(project),
            "DELTASTORE_RUN_DATE": "2024-06-30"}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, object, list[str], Path]:
    """One successful build of the mini project, shared by the tests that only read it."""
    root = tmp_path_factory.mktemp("dbt_runner")
    project = root / "project"
    shutil.copytree(MINI_PROJECT, project)
    settings = Settings.from_env(_env(root, project))
    _load_raw(settings.data_dir / "warehouse.duckdb")
    lines: list[str] = []
    run = run_dbt(settings, "build", echo=lines.append)
    return settings, run, lines, project


@pytest.fixture
def cli_env(built: tuple, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Point the CLI at the built project; only this group's commands are registered."""
    settings, _, _, project = built
    for key, value in _env(settings.data_dir.parent, project).items():
        monkeypatch.setenv(key, value)
    monkeypatch.setattr(cli, "COMMAND_MODULES", ("deltastore.workflows.commands.dbt",))
    return settings


def test_build_runs_every_node_and_prints_one_line_each(built: tuple) -> None:
    settings, run, lines, _ = built
    assert run.success, lines
    kinds = {n.resource_type for n in run.nodes}
    assert kinds == {"seed", "model", "snapshot", "test"}
    names = {n.name for n in run.nodes}
    assert {"states", "stg_shop__customers", "dim_customers", "fct_orders",
            "customers_snapshot", "assert_enough_customers"} <= names
    node_lines = [line for line in lines if not line.startswith("dbt build:")]
    assert len(node_lines) == len(run.nodes)
    dim_line = next(line for line in node_lines if " dim_customers " in line)
    assert dim_line.startswith("SUCCESS model")
    assert dim_line.endswith("s]")
    assert lines[-1].startswith(f"dbt build: {len(run.nodes)} nodes (")
    run.raise_for_status()  # no error on success


def test_build_uses_settings_vars_and_warehouse(built: tuple) -> None:
    settings, _, _, _ = built
    with duckdb.connect(str(settings.warehouse_url.path), read_only=True) as con:
        rows = con.execute("select distinct as_of_date from analytics.dim_customers").fetchall()
        count = con.execute("select count(*) from analytics.dim_customers").fetchone()
    assert rows == [(dt.date(2024, 6, 30),)]  # DELTASTORE_RUN_DATE reached the model
    assert count == (3,)


def test_artifacts_go_to_the_data_dir_and_nothing_into_the_project(built: tuple) -> None:
    settings, run, _, project = built
    assert run.target_dir == settings.data_dir / "dbt" / "target"
    results = json.loads((run.target_dir / "run_results.json").read_text())
    assert {r["unique_id"] for r in results["results"]} == {n.unique_id for n in run.nodes}
    manifest = json.loads((run.target_dir / "manifest.json").read_text())
    assert manifest["metadata"]["send_anonymous_usage_stats"] is False
    assert not (settings.data_dir / "dbt" / "logs" / "dbt.log").exists()  # off by default
    source_files = {p.relative_to(MINI_PROJECT) for p in MINI_PROJECT.rglob("*")}
    project_files = {p.relative_to(project) for p in project.rglob("*")}
    assert project_files == source_files  # no target/, logs/ or .user.yml in the source tree
    assert "DELTASTORE_DBT_DUCKDB_PATH" not in os.environ  # set for dbt only, then restored
    assert gc.get_freeze_count() == 0  # what dbt left is collected again, as before it ran


def test_dbt_log_file_at_the_level_asked(built: tuple) -> None:
    settings, _, _, project = built
    debug = Settings.from_env(_env(settings.data_dir.parent, project)
                              | {"DELTASTORE_DBT_LOG_LEVEL_FILE": "DEBUG"})
    assert run_dbt(debug, "test", select="assert_enough_customers", echo=None).success
    log = (settings.data_dir / "dbt" / "logs" / "dbt.log").read_text()
    assert "[debug]" in log and "assert_enough_customers" in log  # what dbt ran
    with pytest.raises(ConfigError, match="DELTASTORE_DBT_LOG_LEVEL_FILE.*`none`"):
        Settings.from_env(_env(settings.data_dir.parent, project)
                          | {"DELTASTORE_DBT_LOG_LEVEL_FILE": "verbose"})


def test_failing_test_exits_3_and_is_recorded_for_the_sync_gate(
        cli_env: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["build"]) == 0  # every node has a recorded result
    capsys.readouterr()
    code = cli.main(["build", "--select", "assert_enough_customers",
                     "--vars", '{"min_customers": 99}'])
    out, err = capsys.readouterr()
    assert code == 3
    assert "FAIL    test      assert_enough_customers" in out
    assert err.startswith("error: dbt build: 1 test(s) failed: `assert_enough_customers`")
    # Recorded in the warehouse after dbt let go of the DuckDB file, in the same process.
    build = last_build(cli_env)
    assert build is not None and f"recorded dbt build `{build.invocation_id}`" in out
    test_id = "test.mini.assert_enough_customers"
    assert build.failed_nodes == (f"{test_id} (fail)",)
    assert [(n.unique_id, n.resource_type, n.status) for n in build.nodes] == [
        (test_id, "test", "fail")]
    assert build.run_date == "2024-06-30" and not build.success
    with pytest.raises(DataError, match=f"feeding the marts, 1 failed: `{test_id} \\(fail\\)`"
                                        r"\ \(latest"):
        check_build_gate(cli_env, echo=lambda _: None)

    assert cli.main(["build", "--select", "assert_enough_customers"]) == 0
    capsys.readouterr()
    passed = last_build(cli_env)
    assert passed is not None and passed.success
    assert passed.invocation_id != build.invocation_id
    lines: list[str] = []
    check_build_gate(cli_env, echo=lines.append)
    assert lines and lines[0].startswith("sync gate: the latest results of all 11 nodes")


def test_a_partial_build_cannot_clear_another_nodes_failure(
        cli_env: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["build"]) == 0
    assert cli.main(["build", "--select", "int_customers_enriched",
                     "--vars", '{"break_model": true}']) == 1
    assert cli.main(["build", "--select", "assert_enough_customers"]) == 0  # passes ...
    capsys.readouterr()
    # ... but the model that errored is still the latest word on it.
    with pytest.raises(DataError, match=r"1 failed: `model.mini.int_customers_enriched "
                                        r"\(error\)`"):
        check_build_gate(cli_env, echo=lambda _: None)
    lines: list[str] = []
    check_build_gate(cli_env, force=True, echo=lines.append)
    assert lines[0].startswith("sync gate overridden (--force): of the 11 dbt nodes")


def test_a_selection_matching_nothing_exits_2_and_records_nothing(
        cli_env: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    before = last_build(cli_env)
    assert cli.main(["build", "--select", "nothing_matches"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --select `nothing_matches` --exclude `` matches no dbt node")
    after = last_build(cli_env)
    assert (after and after.invocation_id) == (before and before.invocation_id)


def test_build_writes_the_failed_test_count_for_argo(
        cli_env: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    metrics = tmp_path / "metrics"
    monkeypatch.setenv("DELTASTORE_METRICS_DIR", str(metrics))
    # Written before the error is raised, so a failing build still reports its count.
    assert cli.main(["build", "--select", "assert_enough_customers",
                     "--vars", '{"min_customers": 99}']) == 3
    assert (metrics / "failed_tests").read_text() == "1"
    assert cli.main(["build", "--select", "assert_enough_customers"]) == 0
    assert (metrics / "failed_tests").read_text() == "0"
    capsys.readouterr()


def test_sigterm_stops_a_running_build_exits_143_and_records_nothing(
        tmp_path: Path) -> None:
    """A drain during dbt-build: dbt cancels the running query (dbt-duckdb interrupts it),
    the step exits 143 for Argo to retry, and the stopped build is not recorded, so a
    `--retry-failed` attempt builds everything rather than trusting a partial record."""
    import signal

    from child_process import caught_signals, clean_env, start_deltastore, wait_until_busy

    project = tmp_path / "project"
    shutil.copytree(MINI_PROJECT, project)
    env = clean_env(**_env(tmp_path, project))
    _load_raw(tmp_path / "data" / "warehouse.duckdb")
    process = start_deltastore(["build", "--vars", '{"slow_model": true}'], env)
    try:
        assert process.stdout is not None
        for line in process.stdout:  # dim_customers, the slow mart, starts after its parent
            if "int_customers_enriched" in line:
                break
        assert signal.SIGTERM in caught_signals(process.pid)
        # dbt-duckdb cancels by interrupting the running query: a SIGTERM that lands while
        # dbt is still compiling the slow mart leaves the query to run its minutes (and,
        # in a pod, the kubelet's SIGKILL at the end of the grace period to end it; 137 is
        # retried too). The test stops a build whose slow query is running.
        wait_until_busy(process.pid, 1.0)
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 143, err[-2000:]
    assert err.strip().endswith("terminated (SIGTERM): stopped before the end; a rerun is safe")
    assert last_build(Settings.from_env(_env(tmp_path, project))) is None


def test_model_error_exits_1(built: tuple) -> None:
    settings, _, _, _ = built
    lines: list[str] = []
    run = run_dbt(settings, "build", select="int_customers_enriched",
                  extra_vars={"break_model": True}, echo=lines.append)
    assert not run.success
    assert [n.status for n in run.nodes if n.name == "int_customers_enriched"] == ["error"]
    assert any(line.startswith("ERROR   model     int_customers_enriched") for line in lines)
    with pytest.raises(TransientError, match="errored: `int_customers_enriched`") as caught:
        run.raise_for_status()
    assert caught.value.exit_code == 1


def test_a_mart_off_its_contract_is_a_data_error(
        cli_env: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    code = cli.main(["build", "--select", "dim_customers", "--vars", '{"break_contract": true}'])
    err = capsys.readouterr().err
    assert code == 3
    assert err.startswith("error: dbt build: `dim_customers` do(es) not match the columns and "
                          "types of the data contract")


@pytest.mark.parametrize("argv, message", [
    (["build", "--target", "nowhere"], "does not have a target named 'nowhere'"),
    (["build", "--vars", "{not json"], "--vars: `{not json` is not valid JSON"),
    (["build", "--vars", "[1, 2]"], "must be a JSON object"),
    (["build", "--run-date", "30/06/2024"], "--run-date: `30/06/2024` is not a date"),
])
def test_configuration_problems_exit_2(cli_env: Settings, capsys: pytest.CaptureFixture[str],
                                       argv: list[str], message: str) -> None:
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err


def test_empty_select_means_everything(built: tuple) -> None:
    settings, _, _, _ = built
    argv = dbt_args(settings, "build", select="", exclude="  ")
    assert "--select" not in argv and "--exclude" not in argv
    argv = dbt_args(settings, "build", select="path:models/staging  resource_type:seed")
    at = argv.index("--select")
    assert argv[at + 1: at + 3] == ["path:models/staging", "resource_type:seed"]


def test_freshness_passes_warns_then_fails_on_stale_source(cli_env: Settings,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["freshness"]) == 0
    assert "PASS    source    customers" in capsys.readouterr().out
    _load_raw(cli_env.warehouse_url.path, loaded_at="now() - interval 15 day")
    try:
        assert cli.main(["freshness"]) == 0  # past warn_after only: reported, not failed
        assert "WARN    source    customers" in capsys.readouterr().out
        _load_raw(cli_env.warehouse_url.path, loaded_at="now() - interval 40 day")
        code = cli.main(["freshness"])
        captured = capsys.readouterr()
        assert code == 3
        assert "ERROR   source    customers" in captured.out
        assert "older than their error threshold: `customers`" in captured.err
    finally:
        _load_raw(cli_env.warehouse_url.path)


def test_layers_build_the_project_in_order(built: tuple, tmp_path: Path) -> None:
    """Building layer by layer into an empty warehouse builds and tests every node once."""
    settings, full_run, _, project = built
    layers = dbt_layers(target_dir(settings) / "manifest.json")
    assert [name for name, _ in layers] == ["seeds+staging", "intermediate", "marts",
                                            "snapshots"]
    assert dict(layers)["seeds+staging"] == "resource_type:seed path:models/staging"
    fresh = Settings.from_env(_env(tmp_path, project))
    _load_raw(fresh.warehouse_url.path)
    seen: list[str] = []
    for _, selector in layers:
        run = run_dbt(fresh, "build", select=selector, echo=None)
        run.raise_for_status()
        seen += [n.unique_id for n in run.nodes]
    assert sorted(seen) == sorted(n.unique_id for n in full_run.nodes)


def test_slo_report_on_handmade_run_results(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    results = tmp_path / "run_results.json"
    results.write_text(json.dumps({"results": [
        {"unique_id": "model.p.fast", "status": "success", "execution_time": 1.5},
        {"unique_id": "model.p.slow", "status": "success", "execution_time": 420.0},
        {"unique_id": "test.p.t", "status": "pass", "execution_time": 0.2},
    ]}))
    report = check_slo(results, max_seconds=300)
    assert [n.unique_id for n in report.slow] == ["model.p.slow"]
    assert report.total_seconds == pytest.approx(421.7)
    monkeypatch.setattr(cli, "COMMAND_MODULES", ("deltastore.workflows.commands.dbt",))
    assert cli.main(["slo", "--run-results", str(results), "--max-seconds", "300"]) == 0
    assert "BREACH    420.0s  model.p.slow" in capsys.readouterr().out
    assert cli.main(["slo", "--run-results", str(results), "--max-seconds", "300",
                     "--fail"]) == 3
    assert cli.main(["slo", "--run-results", str(results), "--max-seconds", "500",
                     "--fail=true"]) == 0
    assert cli.main(["slo", "--run-results", str(tmp_path / "missing.json")]) == 2


def test_slo_reads_the_latest_run_of_every_node_from_the_warehouse(
        cli_env: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["build"]) == 0
    assert cli.main(["build", "--select", "stg_shop__customers dim_customers"]) == 0
    results = target_dir(cli_env) / "run_results.json"
    last = json.loads(results.read_text())["results"]
    # On Kubernetes the slo-report pod never sees the build's files.
    moved = results.rename(tmp_path / "run_results.json")
    try:
        assert cli.main(["slo", "--max-seconds", "0.000001", "--fail"]) == 3
    finally:
        moved.rename(results)
    out = capsys.readouterr().out
    assert f"recorded in `{cli_env.warehouse_url}`" in out
    breaches = [line for line in out.splitlines() if line.startswith("BREACH")]
    assert breaches
    # The latest run of every node, whichever build ran it (layers are judged as a whole):
    # this build's nodes and those only an earlier full build ran.
    breached = {line.split()[2] for line in breaches}
    assert breached >= {r["unique_id"] for r in last if r["execution_time"] > 0.000001}
    assert "snapshot.mini.customers_snapshot" in breached
    assert "latest run of each node" in out
    assert {r["unique_id"] for r in last} >= {
        "model.mini.stg_shop__customers", "model.mini.dim_customers"}


def test_slo_without_a_recorded_build_says_to_build(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("DELTASTORE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setattr(cli, "COMMAND_MODULES", ("deltastore.workflows.commands.dbt",))
    assert cli.main(["slo"]) == 2
    assert "no dbt build recorded in `duckdb://" in capsys.readouterr().err


def test_mssql_environment_carries_no_password_in_argv(monkeypatch: pytest.MonkeyPatch,
                                                      tmp_path: Path) -> None:
    monkeypatch.delenv("DELTASTORE_WAREHOUSE_PASSWORD", raising=False)
    settings = Settings.from_env({
        "DELTASTORE_DATA_DIR": str(tmp_path), "DELTASTORE_DBT_PROJECT_DIR": str(MINI_PROJECT),
        "DELTASTORE_WAREHOUSE_URL": "mssql://loader@db.example.com/dw?encrypt=yes"
                                    "&trust_server_certificate=yes&authentication=sql",
        "DELTASTORE_WAREHOUSE_PASSWORD": "pa55-Secret",
    })
    env = dbt_environment(settings)
    assert env == {
        "DELTASTORE_DBT_MSSQL_HOST": "db.example.com", "DELTASTORE_DBT_MSSQL_PORT": "1433",
        "DELTASTORE_DBT_MSSQL_DATABASE": "dw", "DELTASTORE_DBT_MSSQL_USER": "loader",
        "DELTASTORE_DBT_MSSQL_DRIVER": "ODBC Driver 18 for SQL Server",
        "DELTASTORE_DBT_MSSQL_ENCRYPT": "true", "DELTASTORE_DBT_MSSQL_TRUST_CERT": "true",
        "DELTASTORE_DBT_MSSQL_AUTHENTICATION": "sql",
        "DELTASTORE_DBT_MSSQL_LOGIN_TIMEOUT": "0", "DELTASTORE_DBT_COLUMNSTORE": "false",
        # under a name dbt scrubs from its logs; only in the environment, never in argv
        "DBT_ENV_SECRET_DELTASTORE_WAREHOUSE_PASSWORD": "pa55-Secret",
    }
    argv = dbt_args(settings, "build")
    assert argv[argv.index("--target") + 1] == "prod"
    assert not any("pa55-Secret" in arg for arg in argv)


def test_unknown_command_and_missing_project(built: tuple, tmp_path: Path) -> None:
    settings, _, _, _ = built
    with pytest.raises(ConfigError, match="unknown dbt command `deploy`"):
        run_dbt(settings, "deploy")
    elsewhere = Settings.from_env({"DELTASTORE_DATA_DIR": str(tmp_path),
                                   "DELTASTORE_DBT_PROJECT_DIR": str(tmp_path)})
    with pytest.raises(ConfigError, match="has no dbt_project.yml"):
        run_dbt(elsewhere, "build")
    with pytest.raises(ConfigError, match="--full-refresh does not apply"):
        run_dbt(settings, "test", full_refresh=True)


def _database_error(state: str, text: str, number: int) -> str:
    """A node's message as dbt-sqlserver makes it: DbtDatabaseError(str(pyodbc_error))
    (sqlserver_backend.py handle_backend_database_error), pyodbc's args being
    (state, "[state] [driver]text (number) (SQLExecDirectW)")."""
    from dbt_common.exceptions import DbtDatabaseError
    from odbc_recorder import pyodbc_error

    return str(DbtDatabaseError(str(pyodbc_error("ProgrammingError", state, text, number))))


@pytest.mark.odbc
@pytest.mark.parametrize(("errors", "expected"), [
    ([("42000", "CREATE TABLE permission denied in database 'warehouse'.", 262)], ConfigError),
    ([("42S22", "Invalid column name 'segment'.", 207),
      ("23000", "Cannot insert the value NULL into column 'id'.", 515)], ConfigError),
    ([("23000", "Violation of PRIMARY KEY constraint 'pk'.", 2627)], DataError),
    ([("40001", "Transaction was deadlocked on lock resources.", 1205),
      ("42000", "The SELECT permission was denied.", 229)], TransientError),
    ([("42000", "CREATE TABLE permission denied.", 262), (None, "Compilation Error", 0)],
     TransientError),
])
def test_node_errors_exit_by_the_sql_server_error_they_quote(
        tmp_path: Path, errors: list[tuple[str | None, str, int]],
        expected: type[Exception]) -> None:
    """Review MINOR 6: every errored node was exit 1 and retried, a permission error too."""
    nodes = [NodeResult(f"model.deltastore.m{i}", f"m{i}", "model", "error", 0.1,
                        _database_error(state, text, number) if state else text)
             for i, (state, text, number) in enumerate(errors)]
    run = DbtRun("build", False, nodes, tmp_path)
    with pytest.raises(expected) as caught:
        run.raise_for_status()
    assert type(caught.value) is expected
    if expected is ConfigError:
        assert "not retried" in str(caught.value) and "`m0`" in str(caught.value)


def test_a_new_run_date_does_not_parse_the_whole_project_again(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each day has a new run date. As a var it made dbt parse the whole project again
    (dbt's UnableToPartialParse: "config vars … have changed"); in the environment, dbt
    re-parses only the files that read it. Parsed as ``run_dbt`` parses, events observed."""
    from dbt.cli.main import dbtRunner

    project = tmp_path / "project"
    shutil.copytree(MINI_PROJECT, project)
    settings = Settings.from_env(_env(tmp_path, project))
    events: list[str] = []

    def parse(day: dt.date, extra_vars: dict[str, str] | None = None) -> None:
        environment = {**dbt_environment(settings),
                       "DELTASTORE_DBT_RUN_DATE": dbt_run_date(settings, day, extra_vars)}
        for name, value in environment.items():
            monkeypatch.setenv(name, value)
        events.clear()
        outcome = dbtRunner(callbacks=[lambda e: events.append(e.info.name)]).invoke(
            dbt_args(settings, "parse", extra_vars=extra_vars))
        assert outcome.success, outcome.exception

    parse(dt.date(2026, 1, 1))
    parse(dt.date(2026, 1, 2))
    assert "PartialParsingEnabled" in events and "UnableToPartialParse" not in events
    # The same change given as a var, as the runner passed it before: a whole new parse.
    parse(dt.date(2026, 1, 2), {"run_date": "2026-01-03"})
    parse(dt.date(2026, 1, 2), {"run_date": "2026-01-04"})
    assert "UnableToPartialParse" in events


def test_the_projects_run_date_is_read_when_sql_runs_not_when_parsed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The real project's run_date() reads DELTASTORE_DBT_RUN_DATE only when SQL runs, so a
    new day's date changes no parsed file (dbt's PartialParsingEnabled event counts them;
    before, the 14 files that read the date were parsed again: 1.1 s at scale 100). That the
    date still reaches the marts: test_models.py's `kpi_pipeline_run` and the daily builds
    of test_changed_only_demo.py."""
    from dbt.cli.main import dbtRunner

    settings = Settings.from_env({"DELTASTORE_DATA_DIR": str(tmp_path / "data")})
    changed: list[int] = []

    def parse(day: dt.date) -> None:
        for name, value in {**dbt_environment(settings),
                            "DELTASTORE_DBT_RUN_DATE": dbt_run_date(settings, day)}.items():
            monkeypatch.setenv(name, value)

        def seen(event: object) -> None:
            if event.info.name == "PartialParsingEnabled":  # type: ignore[attr-defined]
                changed.append(int(event.data.changed))  # type: ignore[attr-defined]

        outcome = dbtRunner(callbacks=[seen]).invoke(dbt_args(settings, "parse"))
        assert outcome.success, outcome.exception

    parse(dt.date(2026, 1, 1))  # no earlier parse here: the whole project
    parse(dt.date(2026, 1, 2))
    parse(dt.date(2026, 1, 2))
    assert changed == [0, 0]
