"""One typed settings object, read from ``DELTASTORE_*`` environment variables.

Every default is embedded and local: with nothing set, the legacy DB, the DuckDB warehouse
and the DuckDB sync target are files under ``DELTASTORE_DATA_DIR``. An optional
``DELTASTORE_CONFIG_FILE`` holds ``KEY=VALUE`` lines; the environment wins over it.
Secrets (``*_PASSWORD``, the webhook URL) are read here but never printed: ``describe()``
masks them.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from deltastore.booleans import parse_bool
from deltastore.dburl import DatabaseURL
from deltastore.errors import ConfigError
from deltastore.limits import available_cpus, duckdb_memory_limit
from deltastore.resources import bundled_dbt_project

PREFIX = "DELTASTORE_"
DEFAULT_STORE_API_PORT = 8765


@dataclass(frozen=True)
class Setting:
    """Documentation of one variable; README's configuration table is built from these."""

    name: str
    default: str
    help: str
    secret: bool = False


SETTINGS: tuple[Setting, ...] = (
    Setting("DELTASTORE_DATA_DIR", "./deltastore-data",
            "Directory for every default file (legacy DB, warehouse, sync target, landing files)."),
    Setting("DELTASTORE_STORE_API_URL", f"http://127.0.0.1:{DEFAULT_STORE_API_PORT}",
            "Base URL of the FakeStore-compatible store API."),
    Setting("DELTASTORE_LEGACY_DB_URL", "sqlite:///<data dir>/legacy.db",
            "The old store's database (`mssql://…` in production)."),
    Setting("DELTASTORE_WAREHOUSE_URL", "duckdb:///<data dir>/warehouse.duckdb",
            "The warehouse where raw data lands and dbt builds (`mssql://…` in production)."),
    Setting("DELTASTORE_SYNC_TARGET_URL", "duckdb:///<data dir>/sync_target.duckdb",
            "Where the marts are published for dashboards (Azure SQL `mssql://…` in production)."),
    Setting("DELTASTORE_LEGACY_DB_SCHEMA", "dbo",
            "Schema of the old store's tables in an `mssql://` legacy DB (the original shop "
            "uses `old_store`)."),
    Setting("DELTASTORE_WAREHOUSE_COLUMNSTORE", "false",
            "`true` builds dbt's mart tables with a clustered columnstore index (SQL Server, "
            "Azure SQL S3+/vCore); `false` works on every tier."),
    Setting("DELTASTORE_SYNC_MAX_BATCH_BYTES", "67108864",
            "Upper bound in bytes on the parameter array pyodbc allocates per insert call of "
            "the sync into SQL Server (64 MiB)."),
    Setting("DELTASTORE_LEGACY_DB_PASSWORD", "", "Password for an `mssql://` legacy DB URL.", True),
    Setting("DELTASTORE_WAREHOUSE_PASSWORD", "", "Password for an `mssql://` warehouse URL.", True),
    Setting("DELTASTORE_SYNC_TARGET_PASSWORD", "", "Password for an `mssql://` sync target URL.",
            True),
    Setting("DELTASTORE_RUN_DATE", "today (UTC)",
            "The date that stands in for 'today' in dbt (`YYYY-MM-DD`); set it to backfill."),
    Setting("DELTASTORE_DUCKDB_MEMORY_LIMIT", "half the container's memory limit",
            "DuckDB's memory_limit (`512MiB`, `2GiB`); the default reads the cgroup limit, "
            "so a pod is never OOM-killed by DuckDB sizing itself from the node."),
    Setting("DELTASTORE_DUCKDB_THREADS", "the container's CPU limit",
            "DuckDB's threads; the default reads the cgroup CPU quota."),
    Setting("DELTASTORE_BATCH_SIZE", "50000", "Rows per batch when streaming between databases."),
    Setting("DELTASTORE_HTTP_TIMEOUT", "60", "Read timeout in seconds for store API requests."),
    Setting("DELTASTORE_HTTP_RETRIES", "5",
            "Attempts per store API request on 5xx/429/network errors and non-JSON bodies."),
    Setting("DELTASTORE_HTTP_RETRY_SECONDS", "120",
            "Upper bound on the total time spent retrying one store API request."),
    Setting("DELTASTORE_LEGACY_LOOKBACK_SECONDS", "300",
            "Incremental legacy reads start this long before the saved `updated_at` watermark, "
            "so rows committed late with an older timestamp are not missed."),
    Setting("DELTASTORE_SYNC_MAX_DROP", "0.5",
            "The sync refuses (exit 3) when a mart would lose more than this share of its "
            "published rows (0-1); `--force` overrides."),
    Setting("DELTASTORE_ON_TIME_DAYS", "5",
            "A shipment delivered within this many days of shipping counts as on time."),
    Setting("DELTASTORE_DBT_TARGET", "dev if the warehouse is DuckDB, else prod",
            "dbt target in `dbt/profiles.yml`."),
    Setting("DELTASTORE_DBT_PROJECT_DIR", "the project installed with the package",
            "Where the dbt project lives (only read; dbt writes under the data directory)."),
    Setting("DELTASTORE_NOTIFY_WEBHOOK_URL", "",
            "Slack-compatible webhook for failure messages (a Secret in Kubernetes).", True),
    Setting("DELTASTORE_LOG_LEVEL", "INFO", "Python log level."),
    Setting("DELTASTORE_DBT_LOG_LEVEL_FILE", "none",
            "dbt's own log file `<data dir>/dbt/logs/dbt.log`: `debug` records every statement "
            "dbt sends; `none` writes none (each dbt step prints every node and dbt's errors, "
            "and `run_results.json` keeps every node's message)."),
    Setting("DELTASTORE_METRICS_DIR", "",
            "Directory where steps write figures for Argo metrics (rows loaded, failed tests); "
            "unset = off."),
    Setting("DELTASTORE_CONFIG_FILE", "", "Optional file of `KEY=VALUE` lines read before the "
            "environment."),
)
SECRET_NAMES = frozenset(s.name for s in SETTINGS if s.secret)
_KNOWN = frozenset(s.name for s in SETTINGS)


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    store_api_url: str
    legacy_db_url: DatabaseURL
    warehouse_url: DatabaseURL
    sync_target_url: DatabaseURL
    run_date: dt.date | None
    batch_size: int
    http_timeout: float
    http_retries: int
    http_retry_seconds: float
    on_time_days: int
    dbt_target: str
    dbt_project_dir: Path
    log_level: str
    notify_webhook_url: str | None = field(default=None, repr=False)
    metrics_dir: Path | None = None  # see deltastore/metrics.py
    duckdb_memory_limit: str = field(default_factory=duckdb_memory_limit)  # deltastore/limits.py
    duckdb_threads: int = field(default_factory=available_cpus)
    legacy_db_schema: str = "dbo"
    warehouse_columnstore: bool = False
    sync_max_batch_bytes: int = 64 * 1024 * 1024
    legacy_lookback_seconds: float = 300.0
    sync_max_drop: float = 0.5
    # dbt's file logger formats and scrubs every event, whatever its level, before Python's
    # logging drops it: about a fifth of a build's CPU at dbt's default (debug).
    dbt_log_level_file: str = "none"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read settings; an invalid value raises ConfigError naming the variable."""
        values = _merged_environment(dict(os.environ if env is None else env))
        get = values.get

        data_dir = Path(get("DELTASTORE_DATA_DIR") or "./deltastore-data").expanduser().resolve()

        def url(name: str, default_file: str, password_var: str) -> DatabaseURL:
            raw = get(name)
            parsed = DatabaseURL.parse(raw, name) if raw else DatabaseURL.parse(
                f"{default_file.split(':')[0]}://{data_dir / default_file.split(':')[1]}", name
            )
            return parsed.with_password(get(password_var))

        warehouse = url("DELTASTORE_WAREHOUSE_URL", "duckdb:warehouse.duckdb",
                        "DELTASTORE_WAREHOUSE_PASSWORD")
        store_api_url = (get("DELTASTORE_STORE_API_URL")
                         or f"http://127.0.0.1:{DEFAULT_STORE_API_PORT}").rstrip("/")
        if not store_api_url.startswith(("http://", "https://")):
            raise ConfigError(
                f"DELTASTORE_STORE_API_URL: `{store_api_url}` must start with http:// or https://"
            )
        return cls(
            data_dir=data_dir,
            store_api_url=store_api_url,
            legacy_db_url=url("DELTASTORE_LEGACY_DB_URL", "sqlite:legacy.db",
                              "DELTASTORE_LEGACY_DB_PASSWORD"),
            warehouse_url=warehouse,
            sync_target_url=url("DELTASTORE_SYNC_TARGET_URL", "duckdb:sync_target.duckdb",
                                "DELTASTORE_SYNC_TARGET_PASSWORD"),
            run_date=_parse(get, "DELTASTORE_RUN_DATE", _date, None),
            batch_size=_parse(get, "DELTASTORE_BATCH_SIZE", _positive_int, 50_000),
            http_timeout=_parse(get, "DELTASTORE_HTTP_TIMEOUT", _positive_float, 60.0),
            http_retries=_parse(get, "DELTASTORE_HTTP_RETRIES", _positive_int, 5),
            http_retry_seconds=_parse(get, "DELTASTORE_HTTP_RETRY_SECONDS", _positive_float, 120.0),
            on_time_days=_parse(get, "DELTASTORE_ON_TIME_DAYS", _positive_int, 5),
            dbt_target=get("DELTASTORE_DBT_TARGET") or (
                "dev" if warehouse.kind == "duckdb" else "prod"),
            dbt_project_dir=_parse(get, "DELTASTORE_DBT_PROJECT_DIR",
                                   lambda raw: Path(raw).expanduser().resolve(),
                                   bundled_dbt_project().resolve()),
            log_level=_parse(get, "DELTASTORE_LOG_LEVEL", _log_level, "INFO"),
            notify_webhook_url=get("DELTASTORE_NOTIFY_WEBHOOK_URL") or None,
            metrics_dir=_parse(get, "DELTASTORE_METRICS_DIR",
                               lambda raw: Path(raw).expanduser().resolve(), None),
            duckdb_memory_limit=_parse(get, "DELTASTORE_DUCKDB_MEMORY_LIMIT", _memory_size,
                                       duckdb_memory_limit()),
            duckdb_threads=_parse(get, "DELTASTORE_DUCKDB_THREADS", _positive_int,
                                  available_cpus()),
            legacy_db_schema=_parse(get, "DELTASTORE_LEGACY_DB_SCHEMA", _schema_name, "dbo"),
            warehouse_columnstore=_parse(get, "DELTASTORE_WAREHOUSE_COLUMNSTORE", parse_bool,
                                         False),
            sync_max_batch_bytes=_parse(get, "DELTASTORE_SYNC_MAX_BATCH_BYTES", _at_least_1mib,
                                        64 * 1024 * 1024),
            legacy_lookback_seconds=_parse(get, "DELTASTORE_LEGACY_LOOKBACK_SECONDS",
                                           _non_negative_float, 300.0),
            sync_max_drop=_parse(get, "DELTASTORE_SYNC_MAX_DROP", _share, 0.5),
            dbt_log_level_file=_parse(get, "DELTASTORE_DBT_LOG_LEVEL_FILE", _dbt_log_level,
                                      "none"),
        )

    def describe(self) -> dict[str, str]:
        """Settings as printable strings, secrets masked (safe for logs)."""
        shown: dict[str, str] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "notify_webhook_url":
                value = "***" if value else ""
            shown[f.name] = "" if value is None else str(value)
        return shown


def log_level_from_env(env: Mapping[str, str] | None = None) -> str:
    """``DELTASTORE_LOG_LEVEL`` exactly as ``Settings.from_env`` reads it (config file
    included), without the other settings: logging is set up before a command reads them."""
    values = _merged_environment(dict(os.environ if env is None else env))
    return str(_parse(values.get, "DELTASTORE_LOG_LEVEL", _log_level, "INFO"))


def _merged_environment(env: dict[str, str]) -> dict[str, str]:
    """Config-file values first, environment on top; reject misspelled DELTASTORE_ names."""
    merged: dict[str, str] = {}
    config_file = env.get("DELTASTORE_CONFIG_FILE")
    if config_file:
        merged.update(_read_config_file(Path(config_file)))
    merged.update({k: v for k, v in env.items() if k.startswith(PREFIX)})
    return merged


def _read_config_file(path: Path) -> dict[str, str]:
    try:
        lines = path.read_text().splitlines()
    except OSError as exc:
        raise ConfigError(f"DELTASTORE_CONFIG_FILE: cannot read `{path}`: {exc.strerror}") from None
    values: dict[str, str] = {}
    for number, line in enumerate(lines, 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        key = key.strip()
        if not sep or key not in _KNOWN:
            raise ConfigError(
                f"DELTASTORE_CONFIG_FILE: line {number} of `{path}` is not `DELTASTORE_NAME=value` "
                "with a known name (see README, Configuration)"
            )
        values[key] = value.strip().strip('"')
    return values


def _parse(get: Callable[[str], str | None], name: str,
           convert: Callable[[str], Any], default: Any) -> Any:
    raw = get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return convert(raw.strip())
    except ValueError as exc:
        raise ConfigError(f"{name}: `{raw}` is not valid: {exc}") from None


def _memory_size(raw: str) -> str:
    if not re.fullmatch(r"\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)", raw):
        raise ValueError("write a size DuckDB understands, such as `512MiB` or `2GiB`")
    return raw


LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")  # the chart's enum too


def _log_level(raw: str) -> str:
    if raw.upper() not in LOG_LEVELS:
        raise ValueError("use one of " + ", ".join(f"`{level}`" for level in LOG_LEVELS))
    return raw.upper()


DBT_LOG_LEVELS = ("debug", "info", "warn", "error", "none")  # dbt's --log-level-file choices


def _dbt_log_level(raw: str) -> str:
    if raw.lower() not in DBT_LOG_LEVELS:
        raise ValueError("use one of " + ", ".join(f"`{level}`" for level in DBT_LOG_LEVELS))
    return raw.lower()


def _positive_int(raw: str) -> int:
    value = int(raw)
    if value <= 0:
        raise ValueError("must be a whole number above 0")
    return value


def _positive_float(raw: str) -> float:
    value = float(raw)
    if value <= 0:
        raise ValueError("must be a number above 0")
    return value


def _schema_name(raw: str) -> str:
    if len(raw) > 128 or any(c in "[]\"'.;" or c.isspace() for c in raw):
        raise ValueError("write a plain schema name such as `dbo` or `old_store`")
    return raw


def _at_least_1mib(raw: str) -> int:
    value = int(raw)
    if value < 1024 * 1024:
        raise ValueError("must be at least 1048576 (1 MiB)")
    return value


def _non_negative_float(raw: str) -> float:
    value = float(raw)
    if value < 0:
        raise ValueError("must be a number of seconds, 0 or more")
    return value


def _share(raw: str) -> float:
    value = float(raw)
    if not 0 <= value <= 1:
        raise ValueError("must be a share between 0 and 1, such as 0.5 for 50 %")
    return value


def _date(raw: str) -> dt.date:
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise ValueError("write the date as YYYY-MM-DD") from None
