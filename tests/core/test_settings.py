"""Settings and database URLs: defaults are local files, bad values are exit-2 errors."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from deltastore.dburl import DatabaseURL
from deltastore.errors import EXIT_CONFIG, ConfigError
from deltastore.settings import Settings
from deltastore.workflows.cli import configure_logging, main


def test_defaults_are_files_under_the_data_dir(tmp_path: Path) -> None:
    s = Settings.from_env({"DELTASTORE_DATA_DIR": str(tmp_path)})
    assert s.legacy_db_url.kind == "sqlite" and s.legacy_db_url.path == tmp_path / "legacy.db"
    assert s.warehouse_url.path == tmp_path / "warehouse.duckdb"
    assert s.sync_target_url.path == tmp_path / "sync_target.duckdb"
    assert s.dbt_target == "dev"


def test_mssql_url_carries_odbc_options_and_password_from_env() -> None:
    s = Settings.from_env({
        "DELTASTORE_WAREHOUSE_URL": "mssql://loader@db.example:1433/warehouse?trust_server_certificate=yes",
        "DELTASTORE_WAREHOUSE_PASSWORD": "s3cret;}x",
    })
    url = s.warehouse_url
    assert s.dbt_target == "prod"
    conn = url.odbc_connection_string()
    assert "Driver={ODBC Driver 18 for SQL Server}" in conn
    assert "Server=tcp:db.example,1433" in conn and "Encrypt=yes" in conn
    assert "TrustServerCertificate=yes" in conn
    assert "PWD={s3cret;}}x}" in conn
    # The password never shows when the URL or the settings are printed.
    assert "s3cret" not in str(url) and "s3cret" not in repr(url)
    assert "s3cret" not in repr(s) and "s3cret" not in str(s.describe())


@pytest.mark.parametrize(("variable", "value", "fragment"), [
    ("DELTASTORE_WAREHOUSE_URL", "postgres://x/y", "unknown database scheme"),
    ("DELTASTORE_LEGACY_DB_URL", "sqlite://relative.db", "absolute"),
    ("DELTASTORE_SYNC_TARGET_URL", "mssql://host", "host and a database"),
    ("DELTASTORE_SYNC_TARGET_URL", "mssql://h/db?colour=blue", "unknown option"),
    ("DELTASTORE_BATCH_SIZE", "-5", "above 0"),
    ("DELTASTORE_RUN_DATE", "27/11/2026", "YYYY-MM-DD"),
    ("DELTASTORE_STORE_API_URL", "ftp://x", "http"),
    ("DELTASTORE_LOG_LEVEL", "LOUD", "`WARNING`"),
])
def test_invalid_settings_name_the_variable(variable: str, value: str, fragment: str) -> None:
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({variable: value})
    assert variable in str(caught.value) and fragment in str(caught.value)
    assert caught.value.exit_code == EXIT_CONFIG


def test_password_written_in_url_is_redacted_in_errors() -> None:
    with pytest.raises(ConfigError) as caught:
        DatabaseURL.parse("mssql://u:hunter2@host", "DELTASTORE_WAREHOUSE_URL")
    assert "hunter2" not in str(caught.value)


def test_config_file_is_read_and_environment_wins(tmp_path: Path) -> None:
    config = tmp_path / "deltastore.env"
    config.write_text("# comment\nDELTASTORE_BATCH_SIZE=1000\nDELTASTORE_ON_TIME_DAYS=3\n")
    s = Settings.from_env({"DELTASTORE_CONFIG_FILE": str(config), "DELTASTORE_ON_TIME_DAYS": "7"})
    assert s.batch_size == 1000 and s.on_time_days == 7
    config.write_text("DELTASTORE_BACTH_SIZE=1\n")
    with pytest.raises(ConfigError, match="line 1"):
        Settings.from_env({"DELTASTORE_CONFIG_FILE": str(config)})


def test_cli_help_lists_examples(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--help"])
    assert exited.value.code == 0
    assert "deltastore demo" in capsys.readouterr().out


@pytest.mark.parametrize("text", ["duckdb:///data/w.duckdb", "duckdb:////data/w.duckdb"])
def test_three_and_four_slash_file_urls_mean_the_same_absolute_path(text: str) -> None:
    assert DatabaseURL.parse(text).path == Path("/data/w.duckdb")


def test_an_unknown_log_level_stops_any_command_with_exit_2(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("DELTASTORE_LOG_LEVEL", "verbose")
    assert main(["run", "--skip", "sync"]) == EXIT_CONFIG
    assert "DELTASTORE_LOG_LEVEL: `verbose` is not valid" in capsys.readouterr().err


def test_the_log_level_of_the_config_file_is_the_one_logging_uses(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "deltastore.env"
    config.write_text("DELTASTORE_LOG_LEVEL=warning\n")
    monkeypatch.delenv("DELTASTORE_LOG_LEVEL", raising=False)
    monkeypatch.setenv("DELTASTORE_CONFIG_FILE", str(config))
    own = logging.getLogger("deltastore")
    before = own.level
    try:
        configure_logging(verbose=False)
        assert own.level == logging.WARNING
        assert Settings.from_env().log_level == "WARNING"
        configure_logging(verbose=True)
        assert own.level == logging.DEBUG
    finally:
        own.setLevel(before)
