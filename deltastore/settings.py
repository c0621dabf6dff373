"""One typed settings object, read from ``DELTASTORE_*`` environment variables.

Each setting is declared once, in ``SETTINGS`` below: its variable, the ``Settings`` field
it fills, how its text is parsed, its default, its help and whether it is a secret.
``Settings.from_env``, ``describe()`` (which masks by the secret flag) and the list of known
names all come from that table, and tests check the configuration table of
docs/configuration.md and the Helm chart's ``config``/``secrets`` values and schema
against it.

Every default is embedded and local: with nothing set, the legacy DB, the DuckDB warehouse
and the DuckDB sync target are files under ``DELTASTORE_DATA_DIR``. An optional
``DELTASTORE_CONFIG_FILE`` holds ``KEY=VALUE`` lines; the environment wins over it.
Secrets (``*_PASSWORD``, the webhook URL) are read here but never printed.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from deltastore.booleans import parse_bool
from deltastore.dburl import DatabaseURL
from deltastore.errors import ConfigError
from deltastore.limits import available_cpus, duckdb_memory_limit
from deltastore.resources import bundled_dbt_project

PREFIX = "DELTASTORE_"
DEFAULT_STORE_API_PORT = 8765
NO_DEFAULT = "—"  # how the docs show a setting that is unset by default

Get = Callable[[str], "str | None"]
Values = Mapping[str, Any]  # what the settings declared earlier read, by variable name


@dataclass(frozen=True)
class Setting:
    """One ``DELTASTORE_*`` variable, declared once.

    ``parse`` turns the (stripped, non-empty) text into the value and raises ValueError
    with how to fix it; an unset or empty variable takes ``default``, or
    ``derive(values)`` when the default depends on settings declared before it (those
    also give ``shown``, the docs' words for the default). ``field`` is the ``Settings``
    attribute it fills; None for a variable another setting reads (a password, the config
    file).
    """

    name: str
    help: str
    field: str | None = None
    parse: Callable[[str], Any] = str
    default: Any = None
    derive: Callable[[Values], Any] | None = None
    shown: str | None = None
    secret: bool = False

    def read(self, get: Get, values: Values) -> Any:
        raw = get(self.name)
        if raw is None or raw.strip() == "":
            return self.derive(values) if self.derive else self.default
        try:
            return self.parse(raw.strip())
        except ValueError as exc:
            raise ConfigError(f"{self.name}: `{raw}` is not valid: {exc}") from None

    @property
    def shown_default(self) -> str:
        """The default as the docs show it."""
        if self.shown is not None:
            return self.shown
        if self.default is None:
            return NO_DEFAULT
        value = self.default
        text = ("true" if value else "false") if isinstance(value, bool) else (
            f"{value:g}" if isinstance(value, float) else str(value))
        return f"`{text}`"


@dataclass(frozen=True)
class DatabaseSetting(Setting):
    """A database URL: by default the file ``default_file`` under the data directory; the
    password comes from the variable ``password`` (a Secret), never from the URL's text."""

    default_file: str = ""  # scheme:file name
    password: str = ""

    @property
    def shown_default(self) -> str:
        scheme, file = self.default_file.split(":")
        return f"`{scheme}:///<data dir>/{file}`"

    def read(self, get: Get, values: Values) -> Any:
        raw = (get(self.name) or "").strip()
        if not raw:
            scheme, file = self.default_file.split(":")
            raw = f"{scheme}://{values['DELTASTORE_DATA_DIR'] / file}"
        return DatabaseURL.parse(raw, self.name).with_password(get(self.password))


def _path(raw: str) -> Path:
    return Path(raw).expanduser().resolve()


def _http_url(raw: str) -> str:
    if not raw.startswith(("http://", "https://")):
        raise ValueError("must start with http:// or https://")
    return raw.rstrip("/")


def _memory_size(raw: str) -> str:
    if not re.fullmatch(r"\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)", raw):
        raise ValueError("write a size DuckDB understands, such as `512MiB` or `2GiB`")
    return raw


LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")  # the chart's enum too


def _one_of(choices: tuple[str, ...]) -> Callable[[str], str]:
    """A parser of one of ``choices``, in any case; returns it spelled as in ``choices``."""
    by_key = {c.lower(): c for c in choices}

    def parse(raw: str) -> str:
        if raw.lower() not in by_key:
            raise ValueError("use one of " + ", ".join(f"`{c}`" for c in choices))
        return by_key[raw.lower()]
    return parse


_log_level = _one_of(LOG_LEVELS)
DBT_LOG_LEVELS = ("debug", "info", "warn", "error", "none")  # dbt's --log-level-file choices
_dbt_log_level = _one_of(DBT_LOG_LEVELS)
# DELTASTORE_SCHEMA_CHANGES: what the extract does with a column or field the contract lacks
# (extract/drift.py); the chart's enum too.
EVOLVE, FREEZE, IGNORE = SCHEMA_CHANGE_POLICIES = ("evolve", "freeze", "ignore")
_schema_change_policy = _one_of(SCHEMA_CHANGE_POLICIES)


def _positive_int(raw: str) -> int:
    value = int(raw)
    if value <= 0:
        raise ValueError("must be a whole number above 0")
    return value


def _non_negative_int(raw: str) -> int:
    value = int(raw)
    if value < 0:
        raise ValueError("must be a whole number, 0 or more")
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


def _password(name: str, url: str) -> Setting:
    return Setting(name, f"Password (or service principal secret) for an `mssql://` {url} URL.",
                   secret=True)


SETTINGS: tuple[Setting, ...] = (
    Setting("DELTASTORE_DATA_DIR",
            "Directory for every default file (legacy DB, warehouse, sync target, landing "
            "files, dbt target, dashboards).",
            field="data_dir", parse=_path, derive=lambda _: _path("./deltastore-data"),
            shown="`./deltastore-data`"),
    Setting("DELTASTORE_STORE_API_URL",
            "Base URL of the FakeStore-compatible store API (`https://fakestoreapi.com` works "
            "too).",
            field="store_api_url", parse=_http_url,
            default=f"http://127.0.0.1:{DEFAULT_STORE_API_PORT}"),
    DatabaseSetting("DELTASTORE_LEGACY_DB_URL",
                    "The old store's database (`mssql://…` in production).",
                    field="legacy_db_url", default_file="sqlite:legacy.db",
                    password="DELTASTORE_LEGACY_DB_PASSWORD"),
    DatabaseSetting("DELTASTORE_WAREHOUSE_URL",
                    "The warehouse where raw data lands and dbt builds (`mssql://…` in "
                    "production).",
                    field="warehouse_url", default_file="duckdb:warehouse.duckdb",
                    password="DELTASTORE_WAREHOUSE_PASSWORD"),
    DatabaseSetting("DELTASTORE_SYNC_TARGET_URL",
                    "Where the marts are published for dashboards (Azure SQL `mssql://…` in "
                    "production).",
                    field="sync_target_url", default_file="duckdb:sync_target.duckdb",
                    password="DELTASTORE_SYNC_TARGET_PASSWORD"),
    Setting("DELTASTORE_LEGACY_DB_SCHEMA",
            "Schema of the old store's tables in an `mssql://` legacy DB (the original shop "
            "uses `old_store`).",
            field="legacy_db_schema", parse=_schema_name, default="dbo"),
    Setting("DELTASTORE_WAREHOUSE_COLUMNSTORE",
            "`true` builds dbt's mart tables with a clustered columnstore index (SQL Server, "
            "Azure SQL S3+/vCore); `false` works on every tier.",
            field="warehouse_columnstore", parse=parse_bool, default=False),
    Setting("DELTASTORE_SYNC_MAX_BATCH_BYTES",
            "Upper bound in bytes on the parameter array pyodbc allocates per insert call of "
            "the sync into SQL Server (64 MiB).",
            field="sync_max_batch_bytes", parse=_at_least_1mib,
            default=64 * 1024 * 1024),
    _password("DELTASTORE_LEGACY_DB_PASSWORD", "legacy DB"),
    _password("DELTASTORE_WAREHOUSE_PASSWORD", "warehouse"),
    _password("DELTASTORE_SYNC_TARGET_PASSWORD", "sync target"),
    Setting("DELTASTORE_RUN_DATE",
            "The date that stands in for \"today\" in dbt (`YYYY-MM-DD`); set it to backfill.",
            field="run_date", parse=_date, shown="today (UTC)"),
    Setting("DELTASTORE_DUCKDB_MEMORY_LIMIT",
            "DuckDB's `memory_limit` (`512MiB`, `2GiB`); the default reads the cgroup limit "
            "(`memory.max`), so a pod is never OOM-killed by DuckDB sizing itself from the "
            "node.",
            field="duckdb_memory_limit", parse=_memory_size,
            derive=lambda _: duckdb_memory_limit(), shown="half the container's memory limit"),
    Setting("DELTASTORE_DUCKDB_THREADS",
            "DuckDB's `threads`, and the nodes a DuckDB build runs at once; the default reads "
            "the cgroup CPU quota (`cpu.max`).",
            field="duckdb_threads", parse=_positive_int,
            derive=lambda _: available_cpus(), shown="the container's CPU limit"),
    Setting("DELTASTORE_BATCH_SIZE", "Rows per batch when streaming between databases.",
            field="batch_size", parse=_positive_int, default=50_000),
    Setting("DELTASTORE_HTTP_TIMEOUT", "Read timeout in seconds for store API requests.",
            field="http_timeout", parse=_positive_float, default=60.0),
    Setting("DELTASTORE_HTTP_RETRIES",
            "Attempts per store API request on 5xx/429/network errors and 2xx bodies that "
            "are not JSON.",
            field="http_retries", parse=_positive_int, default=5),
    Setting("DELTASTORE_HTTP_RETRY_SECONDS",
            "Upper bound on the total time spent retrying one store API request.",
            field="http_retry_seconds", parse=_positive_float, default=120.0),
    Setting("DELTASTORE_LEGACY_LOOKBACK_SECONDS",
            "Incremental legacy reads start this long before the saved `updated_at` watermark "
            "(`>=`), so rows committed late with an equal or slightly older timestamp are not "
            "missed; the merge absorbs rows read twice.",
            field="legacy_lookback_seconds", parse=_non_negative_float,
            default=300.0),
    Setting("DELTASTORE_SCHEMA_CHANGES",
            "What the extract does with a column (legacy DB) or field (store API) its contract "
            "lacks: `evolve` lands it in a new nullable raw column, `freeze` stops the extract "
            "(exit 3), `ignore` leaves it out. Each is reported once; a column the contract "
            "needs that is missing or retyped stops the source (exit 3) whatever this says.",
            field="schema_changes", parse=_schema_change_policy, default="evolve"),
    Setting("DELTASTORE_MAX_REJECT_SHARE",
            "A store API page whose records are rejected for one field (missing, or of "
            "another type) beyond this share (0–1) stops the extract (exit 3): the API "
            "changed, these are not a few bad records.",
            field="max_reject_share", parse=_share, default=0.5),
    Setting("DELTASTORE_SYNC_MAX_DROP",
            "Volume guard: the sync refuses (exit 3) when a mart would lose more than this "
            "share (0–1) of its published rows, or all of them; `--force` overrides.",
            field="sync_max_drop", parse=_share, default=0.5),
    Setting("DELTASTORE_ON_TIME_DAYS",
            "A shipment delivered within this many days of shipping counts as on time.",
            field="on_time_days", parse=_positive_int, default=5),
    Setting("DELTASTORE_VERIFY_WHOLE_TABLES_DAYS",
            "The daily build (`--changed-only`) tests the incremental models' tables whole, "
            "not only the rows written since, once their last whole test is this many days "
            "old; `0`: only when asked (`--verify-whole-tables`).",
            field="verify_whole_tables_days", parse=_non_negative_int, default=7),
    Setting("DELTASTORE_DBT_TARGET", "dbt target in `dbt/profiles.yml`.",
            field="dbt_target",
            derive=lambda v: "dev" if v["DELTASTORE_WAREHOUSE_URL"].kind == "duckdb" else "prod",
            shown="`dev` for DuckDB, else `prod`"),
    Setting("DELTASTORE_DBT_PROJECT_DIR",
            "Where the dbt project lives (only read; dbt writes under the data directory).",
            field="dbt_project_dir", parse=_path,
            derive=lambda _: bundled_dbt_project().resolve(),
            shown="the project installed with the package"),
    Setting("DELTASTORE_NOTIFY_WEBHOOK_URL",
            "Slack-compatible webhook for failure messages (a Secret in Kubernetes).",
            field="notify_webhook_url", secret=True),
    Setting("DELTASTORE_LOG_LEVEL", "Python log level.",
            field="log_level", parse=_log_level, default="INFO"),
    Setting("DELTASTORE_DBT_LOG_LEVEL_FILE",
            "dbt's own log file, `<data dir>/dbt/logs/dbt.log`: `debug` records every "
            "statement dbt sends (dbt's default). `none` writes none, because dbt formats every "
            "event for that file, whatever its level, which costs about a fifth of a build's "
            "CPU; each dbt step still prints every node and dbt's errors, and "
            "`target/run_results.json` keeps every node's message.",
            field="dbt_log_level_file", parse=_dbt_log_level, default="none"),
    Setting("DELTASTORE_METRICS_DIR",
            "Directory where steps write figures for Argo metrics (rows loaded, failed tests, "
            "and `mart_rows.prom`: a Prometheus gauge per published mart); unset = off.",
            field="metrics_dir", parse=_path),
    Setting("DELTASTORE_CONFIG_FILE",
            "Optional file of `KEY=VALUE` lines read before the environment (the environment "
            "wins)."),
)
SECRET_NAMES = frozenset(s.name for s in SETTINGS if s.secret)
_KNOWN = frozenset(s.name for s in SETTINGS)
_BY_NAME = {s.name: s for s in SETTINGS}


@dataclass(frozen=True, repr=False)
class Settings:
    """The settings a command runs with; each field is declared in ``SETTINGS``."""

    data_dir: Path
    store_api_url: str
    legacy_db_url: DatabaseURL
    warehouse_url: DatabaseURL
    sync_target_url: DatabaseURL
    legacy_db_schema: str
    warehouse_columnstore: bool
    sync_max_batch_bytes: int
    run_date: dt.date | None
    duckdb_memory_limit: str  # deltastore/limits.py
    duckdb_threads: int
    batch_size: int
    http_timeout: float
    http_retries: int
    http_retry_seconds: float
    legacy_lookback_seconds: float
    schema_changes: str  # evolve | freeze | ignore
    max_reject_share: float
    sync_max_drop: float
    on_time_days: int
    verify_whole_tables_days: int
    dbt_target: str
    dbt_project_dir: Path
    notify_webhook_url: str | None
    log_level: str
    dbt_log_level_file: str
    metrics_dir: Path | None  # see deltastore/metrics.py

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read settings; an invalid value raises ConfigError naming the variable."""
        get = _merged_environment(dict(os.environ if env is None else env)).get
        values: dict[str, Any] = {}
        for setting in SETTINGS:
            values[setting.name] = setting.read(get, values)
        return cls(**{s.field: values[s.name] for s in SETTINGS if s.field})

    def describe(self) -> dict[str, str]:
        """Settings as printable strings, secrets masked (safe for logs)."""
        shown: dict[str, str] = {}
        for setting in SETTINGS:
            if setting.field is None:
                continue
            value = getattr(self, setting.field)
            if setting.secret and value:
                value = "***"
            shown[setting.field] = "" if value is None else str(value)
        return shown

    def __repr__(self) -> str:
        return "Settings(" + ", ".join(f"{k}={v!r}" for k, v in self.describe().items()) + ")"


def settings_table() -> str:
    """The Markdown table of every setting, as docs/configuration.md shows it."""
    rows = ["| variable | default | what it is |", "|---|---|---|"]
    rows += [f"| `{s.name}` | {s.shown_default} | {s.help}"
             + (" **Secret.**" if s.secret else "") + " |" for s in SETTINGS]
    return "\n".join(rows) + "\n"


def log_level_from_env(env: Mapping[str, str] | None = None) -> str:
    """``DELTASTORE_LOG_LEVEL`` exactly as ``Settings.from_env`` reads it (config file
    included), without the other settings: logging is set up before a command reads them."""
    get = _merged_environment(dict(os.environ if env is None else env)).get
    return str(_BY_NAME["DELTASTORE_LOG_LEVEL"].read(get, {}))


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
                "with a known name (see docs/configuration.md)"
            )
        values[key] = value.strip().strip('"')
    return values
