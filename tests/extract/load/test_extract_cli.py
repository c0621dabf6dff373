"""`deltastore extract` through the real CLI entry point: summary, exit codes, messages."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from extract_load_helpers import dump_warehouse

from deltastore.extract.demo.store_server import DemoStore, Fault
from deltastore.workflows.cli import main


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, data_dir: Path) -> pytest.MonkeyPatch:
    for name in ("DELTASTORE_CONFIG_FILE", "DELTASTORE_WAREHOUSE_URL", "DELTASTORE_LEGACY_DB_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DELTASTORE_DATA_DIR", str(data_dir))
    monkeypatch.setenv("DELTASTORE_HTTP_RETRIES", "3")
    monkeypatch.setenv("DELTASTORE_HTTP_RETRY_SECONDS", "5")
    return monkeypatch


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_extract_prints_a_summary_per_table(env: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    with DemoStore(scale=0.01) as store:
        env.setenv("DELTASTORE_STORE_API_URL", store.url)
        assert main(["extract"]) == 0
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert lines[0].split() == ["table", "rows", "inserted", "updated", "deleted", "rejected",
                                "seconds", "rows/s"]
    assert len(lines) == 13
    assert lines[1].split()[:6] == ["new_store.products", "4", "4", "0", "0", "0"]
    assert "store-api: reading" in err and "legacy-db: reading" in err


def test_bad_json_exits_3_and_leaves_the_warehouse_as_it_was(
        env: pytest.MonkeyPatch, data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with DemoStore(scale=0.01) as store:
        env.setenv("DELTASTORE_STORE_API_URL", store.url)
        assert main(["extract", "--source", "store-api"]) == 0
    before = dump_warehouse(data_dir / "warehouse.duckdb")
    # More users and carts than before: a partial load would show.
    with DemoStore(scale=0.02, faults=[Fault("/carts", "badjson", times=50)]) as store:
        env.setenv("DELTASTORE_STORE_API_URL", store.url)
        capsys.readouterr()
        assert main(["extract", "--source", "store-api"]) == 3
    err = capsys.readouterr().err
    assert err.splitlines()[-1].startswith("error: store API `/carts` did not return JSON")
    assert dump_warehouse(data_dir / "warehouse.duckdb") == before


def test_an_unreachable_store_exits_1_after_retries_and_changes_nothing(
        env: pytest.MonkeyPatch, data_dir: Path, capsys: pytest.CaptureFixture[str],
        closed_port: int) -> None:
    assert main(["extract", "--source", "legacy-db"]) == 0
    before = dump_warehouse(data_dir / "warehouse.duckdb")
    env.setenv("DELTASTORE_STORE_API_URL", f"http://127.0.0.1:{closed_port}")
    capsys.readouterr()
    assert main(["extract", "--source", "all"]) == 1
    message = capsys.readouterr().err.splitlines()[-1]
    assert message.startswith("error: store API `GET /products` failed after 3 attempt(s)")
    assert "ConnectionError" in message and "DELTASTORE_HTTP_RETRIES" in message
    assert dump_warehouse(data_dir / "warehouse.duckdb") == before


def test_a_missing_legacy_database_exits_2_and_says_how_to_make_one(
        env: pytest.MonkeyPatch, data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (data_dir / "legacy.db").unlink()
    assert main(["extract", "--source", "legacy-db"]) == 2
    err = capsys.readouterr().err
    assert err.splitlines()[-1].startswith("error: legacy database `sqlite://")
    assert "`deltastore demo-data legacy`" in err
    assert not (data_dir / "warehouse.duckdb").exists()  # nothing created on the way


def test_one_legacy_table_per_call_as_argo_fans_out(
        env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["extract", "--source", "legacy-db", "--table", "customers",
                 "--table", "orders"]) == 0
    tables = [line.split()[0] for line in capsys.readouterr().out.splitlines()[1:]]
    assert tables == ["old_store.customers", "old_store.orders"]
    assert main(["extract", "--source", "legacy-db", "--table", "custmers"]) == 2
    err = capsys.readouterr().err
    assert "unknown legacy table `custmers`" in err and "`customers`" in err
    assert main(["extract", "--table", "customers"]) == 2
    assert "add `--source legacy-db`" in capsys.readouterr().err


def test_help_has_an_example(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["extract", "--help"])
    out = capsys.readouterr().out
    assert "deltastore extract --source legacy-db --full-refresh" in out
    assert "--source {store-api,legacy-db,all}" in out


def _rows_changed(summary: str) -> int:
    """inserted + updated + deleted over the summary's table lines (skip header and total)."""
    total = 0
    for line in summary.splitlines()[1:]:
        cells = line.split()
        if "." in cells[0]:  # table lines are `schema.table`
            total += sum(int(c.replace(",", "")) for c in cells[2:5])
    return total


def test_rows_loaded_is_written_for_argo_when_a_metrics_dir_is_set(
        env: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    metrics = tmp_path / "metrics"
    env.setenv("DELTASTORE_METRICS_DIR", str(metrics))
    assert main(["extract", "--source", "legacy-db"]) == 0
    first = int((metrics / "rows_loaded").read_text())
    assert first == _rows_changed(capsys.readouterr().out)
    assert first > 0
    # Incremental again: the figure is this run's own, not a running total.
    assert main(["extract", "--source", "legacy-db"]) == 0
    again = int((metrics / "rows_loaded").read_text())
    assert again == _rows_changed(capsys.readouterr().out)
    assert again < first
