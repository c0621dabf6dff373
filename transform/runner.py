"""Run dbt in-process (``dbt.cli.main.dbtRunner``) with the pipeline's settings.

One function, ``run_dbt``, sets the environment that ``dbt/profiles.yml`` reads, points
dbt's target and log paths under the data directory (so nothing is written into the
source tree and a read-only container root works), prints one line per finished node and
returns the nodes' results. ``DbtRun.raise_for_status`` turns a failed run into the error
class whose exit code Argo's retry policy expects.
"""

from __future__ import annotations

import datetime as dt
import gc
import hashlib
import json
import os
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from deltastore.dburl import AUTH_MSI, AUTH_SERVICE_PRINCIPAL, DEFAULT_ODBC_DRIVER
from deltastore.entra import dbt_credential_environment, managed_identity_token
from deltastore.errors import ConfigError, DataError, TransientError
from deltastore.mssql_errors import message_class
from deltastore.settings import Settings
from deltastore.transform.manifest import dbt_layers
from deltastore.transform.verification import tests_environment

__all__ = ["DbtRun", "NodeResult", "dbt_environment", "dbt_layers", "parse_project",
           "parse_vars", "project_files", "project_fingerprint", "run_dbt", "target_dir"]

Echo = Callable[[str], None]

# dbt scrubs the values of variables named DBT_ENV_SECRET_* from its logs and artifacts.
SECRET_PASSWORD = "DBT_ENV_SECRET_DELTASTORE_WAREHOUSE_PASSWORD"

# Commands run_dbt accepts, with the options each of them understands.
_SELECTABLE = {"build", "run", "test", "snapshot", "seed", "source freshness", "compile",
               "docs generate"}
_FULL_REFRESH = {"build", "run", "seed", "compile"}
# `debug` only opens a connection to the target (`dbt debug --connection`): a login check.
_COMMANDS = _SELECTABLE | {"parse", "debug"}
# Commands that run nodes print a line per node; compile-like ones print only problems.
_EXECUTING = {"build", "run", "test", "snapshot", "seed", "source freshness"}
# Test-like statuses that mean "the data is wrong" rather than "something broke".
_DATA_FAILURES = {"fail"}
_ERRORS = {"error", "runtime error", "partial success"}
_TEST_TYPES = {"test", "unit_test"}
# dbt's message when a model's columns differ from its enforced contract (dbt.exceptions).
_CONTRACT_BREACH = "enforced contract"


@dataclass(frozen=True)
class NodeResult:
    """What happened to one dbt node (model, test, seed, snapshot, source) in a run."""

    unique_id: str
    name: str
    resource_type: str
    status: str
    seconds: float
    message: str = ""

    def line(self) -> str:
        """The one line printed for this node: status, type, name, time, and why if failed."""
        text = f"{self.status.upper():<7} {self.resource_type:<9} {self.name} [{self.seconds:.2f}s]"
        if self.status not in ("success", "pass") and self.message:
            text += f": {self.message.strip().splitlines()[0]}"
        return text


@dataclass
class DbtRun:
    """The outcome of one dbt invocation; ``target_dir`` holds its artifacts."""

    command: str
    success: bool
    nodes: list[NodeResult]
    target_dir: Path
    error: str | None = None  # dbt's own message when it stopped before or between nodes
    error_class: type[Exception] = field(default=TransientError, repr=False)

    def summary(self, seconds: float) -> str:
        counts = Counter(n.status for n in self.nodes)
        parts = ", ".join(f"{count} {status}" for status, count in sorted(counts.items()))
        return f"dbt {self.command}: {len(self.nodes)} nodes ({parts}) in {seconds:.1f}s"

    def failed(self, statuses: set[str]) -> list[NodeResult]:
        return [n for n in self.nodes if n.status in statuses]

    def failed_tests(self) -> list[NodeResult]:
        """Data and unit tests that failed or errored (the ``failed_tests`` metric)."""
        return [n for n in self.nodes
                if n.resource_type in _TEST_TYPES and n.status in _DATA_FAILURES | _ERRORS]

    def raise_for_status(self) -> None:
        """Raise the error whose exit code matches what went wrong; return if all is well.

        A node that errored (database error, bad SQL) is exit 1 and may be retried; a failed
        test or error-level source staleness is exit 3 (the data must change first).
        """
        if self.success:
            return
        where = f"see `{self.target_dir / 'run_results.json'}` and the log above"
        if self.error:
            raise self.error_class(f"dbt {self.command} stopped: {self.error}")
        data_failures = self.failed(_DATA_FAILURES)
        if self.command == "source freshness":
            stale = self.failed({"error"})
            broken = self.failed({"runtime error"})
            if broken:
                raise TransientError(f"dbt source freshness could not check {_names(broken)}; "
                                     f"{where}")
            if stale:
                raise DataError(
                    f"sources are older than their error threshold: {_names(stale)}; "
                    "load fresh data (deltastore extract) or raise `error_after` in the sources yml"
                )
        errors = self.failed(_ERRORS)
        breaches = [n for n in errors if _CONTRACT_BREACH in n.message]
        if breaches:
            # The model's SQL no longer matches its declared columns: a code/data problem
            # that a retry reproduces, so exit 3 rather than 1.
            raise DataError(f"dbt {self.command}: {_names(breaches)} do(es) not match the "
                            "columns and types of the data contract in the model's yml; "
                            f"fix the model or the contract ({where})")
        if errors:
            cls = _errors_class(errors)
            reasons: dict[type[Exception], str] = {
                ConfigError: "SQL Server refused them (not retried: fix the permission or "
                             "the SQL it names)",
                DataError: "the data broke a constraint or a conversion"}
            why = reasons.get(cls)
            raise cls(f"dbt {self.command}: {len(errors)} node(s) errored: {_names(errors)}"
                      + (f"; {why}: {_first_error(errors)}" if why else "") + f"; {where}")
        if data_failures:
            raise DataError(
                f"dbt {self.command}: {len(data_failures)} test(s) failed: "
                f"{_names(data_failures)}; fix the data or the test ({where})"
            )
        raise TransientError(f"dbt {self.command} failed; {where}")


def _errors_class(errors: Sequence[NodeResult]) -> type[Exception]:
    """Exit 1 (retried) unless every errored node quotes a SQL Server error that a retry
    cannot fix (dbt-sqlserver puts the driver's message in the node's): then exit 2, or 3
    when each is a data error: a permission error must not be retried like a deadlock."""
    classes = {message_class(n.message) for n in errors}
    if classes & {None, TransientError}:
        return TransientError
    return ConfigError if ConfigError in classes else DataError


def _first_error(errors: Sequence[NodeResult]) -> str:
    node = errors[0]
    return f"`{node.name}`: {' '.join(node.message.split())[:300]}"


def _names(nodes: Sequence[NodeResult], limit: int = 10) -> str:
    shown = ", ".join(f"`{n.name}`" for n in nodes[:limit])
    return shown + (f" and {len(nodes) - limit} more" if len(nodes) > limit else "")


def target_dir(settings: Settings, command: str = "build") -> Path:
    """Where dbt writes manifest.json, run_results.json and compiled SQL for ``command``.

    Only commands that build or test nodes write into ``target/``, whose run_results.json
    the sync gate and the SLO report read; the others (docs, compile, parse) get a folder
    of their own, so running them after a build never hides the build's results.
    """
    base = settings.data_dir / "dbt"
    if command in _EXECUTING:
        return base / "target"
    return base / ("target-" + command.replace(" ", "-"))


def log_dir(settings: Settings) -> Path:
    return settings.data_dir / "dbt" / "logs"


def dbt_environment(settings: Settings) -> dict[str, str]:
    """The variables ``dbt/profiles.yml`` reads, derived from the warehouse URL.

    The login follows the URL's ``authentication`` (dbt-sqlserver 1.11.3,
    dbt/adapters/sqlserver/sqlserver_backend.py ``build_common_connection_string_parts`` and
    sqlserver_auth.py ``get_pyodbc_attrs_before_credentials``):
    - ``sql``: profile ``sql`` with user and password -> ``UID={…};PWD={…}``;
    - ``ActiveDirectoryServicePrincipal``: ``client_id``/``client_secret`` -> the driver's own
      ``Authentication=ActiveDirectoryServicePrincipal;UID={id};PWD={secret}``, no token;
    - ``ActiveDirectoryMsi``: the adapter's ``auto`` mode, which fetches a token for each
      login from azure-identity's DefaultAzureCredential and fetches a new one when less
      than 300 s remain, so a build of any length never logs in with an expired token;
      ``deltastore.entra.dbt_credential_environment`` narrows that chain to the identity
      extract and sync use. The connection string has no ``Authentication``, ``UID`` or
      ``PWD`` next to the token (sqlserver_backend.py adds them for ``ActiveDirectory*``
      labels only). Its ``ActiveDirectoryMsi`` mode would send both (refused by the driver:
      FA005), and ``ActiveDirectoryAccessToken`` sends one token for the whole build.
      A token is fetched here first, so a missing identity fails before dbt starts.
    Secrets go in ``DBT_ENV_SECRET_*`` variables, which dbt scrubs from its logs; they are
    set in this process's environment only while dbt runs, never passed as arguments.
    """
    url = settings.warehouse_url
    if url.kind == "duckdb":
        assert url.path is not None
        return {"DELTASTORE_DBT_DUCKDB_PATH": str(url.path),
                "DELTASTORE_DBT_DUCKDB_MEMORY_LIMIT": settings.duckdb_memory_limit,
                "DELTASTORE_DBT_DUCKDB_THREADS": str(settings.duckdb_threads)}
    if url.kind != "mssql":
        raise ConfigError(
            f"DELTASTORE_WAREHOUSE_URL: dbt cannot build in a `{url.kind}` warehouse; "
            "use `duckdb:///abs/path.duckdb` or `mssql://user@host:1433/database`"
        )
    encrypt = url.option("encrypt", "yes")
    if encrypt == "strict":
        # The adapter writes `encrypt=Yes|No` from a boolean; strict cannot be expressed.
        raise ConfigError(
            "DELTASTORE_WAREHOUSE_URL: `encrypt=strict` cannot reach dbt-sqlserver, whose "
            "profile knows only encrypt yes/no; use `encrypt=yes` (with the default "
            "`trust_server_certificate=no` the server certificate is still verified)")
    env = {
        "DELTASTORE_DBT_MSSQL_HOST": url.host or "",
        "DELTASTORE_DBT_MSSQL_PORT": str(url.port or 1433),
        "DELTASTORE_DBT_MSSQL_DATABASE": url.database or "",
        "DELTASTORE_DBT_MSSQL_DRIVER": url.option("driver", DEFAULT_ODBC_DRIVER) or "",
        "DELTASTORE_DBT_MSSQL_ENCRYPT": "true" if encrypt == "yes" else "false",
        "DELTASTORE_DBT_MSSQL_TRUST_CERT": (
            "true" if url.option("trust_server_certificate") == "yes" else "false"),
        "DELTASTORE_DBT_MSSQL_LOGIN_TIMEOUT": str(url.login_timeout),
        "DELTASTORE_DBT_COLUMNSTORE": "true" if settings.warehouse_columnstore else "false",
    }
    auth = url.authentication
    if auth == AUTH_MSI:
        managed_identity_token(url.user)  # no identity: stop here, with the reason
        env["DELTASTORE_DBT_MSSQL_AUTHENTICATION"] = "auto"
        return env | dbt_credential_environment(url.user)
    if not url.user or not url.password:
        url.odbc_connection_string()  # raises the error that says what is missing
    assert url.user and url.password
    if auth == AUTH_SERVICE_PRINCIPAL:
        env |= {"DELTASTORE_DBT_MSSQL_AUTHENTICATION": AUTH_SERVICE_PRINCIPAL,
                "DELTASTORE_DBT_MSSQL_CLIENT_ID": url.user}
    else:
        env |= {"DELTASTORE_DBT_MSSQL_AUTHENTICATION": "sql",
                "DELTASTORE_DBT_MSSQL_USER": url.user}
    env[SECRET_PASSWORD] = url.password
    return env


def parse_vars(text: str | None) -> dict[str, Any]:
    """``--vars`` as given on the command line: a JSON (or YAML) mapping; empty means none."""
    if text is None or not text.strip():
        return {}
    import yaml

    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        problem = getattr(exc, "problem", None) or "cannot be parsed"
        raise ConfigError(f"--vars: `{text}` is not valid JSON ({problem}); write an object "
                          "such as `{\"run_date\": \"2024-06-30\"}`") from None
    if not isinstance(value, dict):
        raise ConfigError(f"--vars: `{text}` must be a JSON object such as "
                          "`{\"run_date\": \"2024-06-30\"}`")
    return value


def dbt_vars(settings: Settings, extra_vars: Mapping[str, Any] | None = None
             ) -> dict[str, Any]:
    """The vars every run gets: ``on_time_days``; ``extra_vars`` win. The run date is not
    one of them (``dbt_run_date``)."""
    values: dict[str, Any] = {"on_time_days": settings.on_time_days}
    values.update(extra_vars or {})
    return values


def dbt_run_date(settings: Settings, run_date: dt.date | None = None,
                 extra_vars: Mapping[str, Any] | None = None) -> str:
    """The date the models take for today: a ``run_date`` var given with --vars, else
    ``run_date``, else the setting, else today (UTC). dbt gets it in the environment
    (``DELTASTORE_DBT_RUN_DATE``, read by the run_date() macro), not as a var: a new var
    makes dbt parse the whole project again, which each day's new date would do (1.6 s per
    dbt step at scale 100, 3 s on a loaded machine)."""
    given = (extra_vars or {}).get("run_date")
    if given not in (None, ""):
        return str(given)
    return (run_date or settings.run_date or dt.datetime.now(dt.UTC).date()).isoformat()


def _with_run_date(environment: dict[str, str], settings: Settings,
                   run_date: dt.date | None, extra_vars: Mapping[str, Any] | None
                   ) -> dict[str, str]:
    return {**environment,
            "DELTASTORE_DBT_RUN_DATE": dbt_run_date(settings, run_date, extra_vars)}


def dbt_args(settings: Settings, command: str, *, select: str | None = None,
             exclude: str | None = None, full_refresh: bool = False,
             extra_vars: Mapping[str, Any] | None = None,
             target: str | None = None, args: Sequence[str] = ()) -> list[str]:
    """The argument list for dbtRunner.invoke (no secrets: those travel in the environment)."""
    if command not in _COMMANDS:
        raise ConfigError(f"unknown dbt command `{command}`; use one of "
                          + ", ".join(f"`{c}`" for c in sorted(_COMMANDS)))
    project = settings.dbt_project_dir
    if not (project / "dbt_project.yml").is_file():
        raise ConfigError(f"DELTASTORE_DBT_PROJECT_DIR: `{project}` has no dbt_project.yml; "
                          "point it at the dbt project folder")
    argv = command.split() + [
        "--project-dir", str(project),
        "--profiles-dir", str(project),
        "--target-path", str(target_dir(settings, command)),
        "--log-path", str(log_dir(settings)),
        "--log-level-file", settings.dbt_log_level_file,
        "--target", target or settings.dbt_target,
        "--vars", json.dumps(dbt_vars(settings, extra_vars), sort_keys=True),
        # No usage tracking: it would phone home and write .user.yml into the project.
        "--no-send-anonymous-usage-stats",
        "--no-version-check",
        "--no-use-colors",
        # Our own per-node lines replace dbt's console log; errors are still shown.
        "--quiet",
    ]
    if command == "debug":  # takes no target path; `--connection` skips the project checks
        at = argv.index("--target-path")
        return [*argv[:at], *argv[at + 2:], "--connection", *args]
    if command in _SELECTABLE:
        if select and select.split():
            argv += ["--select", *select.split()]
        if exclude and exclude.split():
            argv += ["--exclude", *exclude.split()]
    if command == "build":
        # A layer-by-layer build runs each test with the layer of its last parent.
        argv += ["--indirect-selection", "buildable"]
    if full_refresh:
        if command not in _FULL_REFRESH:
            raise ConfigError(f"--full-refresh does not apply to `dbt {command}`")
        argv.append("--full-refresh")
    return argv + list(args)


@contextmanager
def _environment(values: Mapping[str, str]) -> Iterator[None]:
    """Set variables for dbt's env_var() during the run, then put the old ones back."""
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, old in saved.items():
            if old is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = old


@contextmanager
def _collector_skips_what_exists() -> Iterator[None]:
    """Python's garbage collector leaves alone what exists when dbt starts (its modules, the
    parsed project) until dbt is done; then they are collected as usual again.

    Otherwise every full collection during a run walks them all again, a sizeable share of
    a small build's time. Objects dbt creates meanwhile are collected as usual.
    """
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


# What dbt may write inside a project: its folders, and .user.yml beside profiles.yml when
# run there by hand (dbt/tracking.py). None of it changes what parsing gives, nor the
# project's fingerprint.
_DBT_OUTPUTS = {"target", "logs", "dbt_packages", ".user.yml"}
# Parsed projects, by everything parsing depends on (see _parsed_manifest).
_MANIFESTS: dict[str, Any] = {}


def project_files(project: Path) -> list[Path]:
    """The files of a dbt project that parsing reads (not dbt's own outputs)."""
    return [p for p in project.rglob("*")
            if p.is_file() and p.relative_to(project).parts[0] not in _DBT_OUTPUTS]


def project_fingerprint(project: Path) -> str:
    """A hash of the dbt project's files (paths and contents, not dbt's own outputs)."""
    digest = hashlib.sha256()
    for path in sorted(project_files(project)):
        digest.update(str(path.relative_to(project)).encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def _parsed_manifest(settings: Settings, environment: Mapping[str, str], *,
                     extra_vars: Mapping[str, Any] | None, target: str | None) -> Any | None:
    """The project parsed once per process for the same arguments, environment and files.

    ``deltastore run`` and ``demo`` call dbt several times in one process (freshness, build,
    docs). dbt's programmatic API takes a parsed manifest (``dbtRunner(manifest=...)``) and
    then skips parsing, which is most of a small command's time. Called inside the dbt
    environment. None when parsing fails: the command then parses itself and says why.
    """
    from dbt.cli.main import dbtRunner

    # Only the parse in memory is wanted: no manifest.json (its partial-parse file is still
    # written, so the next process starts from it).
    argv = [*dbt_args(settings, "parse", extra_vars=extra_vars, target=target),
            "--no-write-json"]
    project = settings.dbt_project_dir
    files = sorted((str(p.relative_to(project)), p.stat().st_mtime_ns, p.stat().st_size)
                   for p in project_files(project))
    fingerprint = json.dumps([argv, sorted(environment.items()), files])
    key = hashlib.sha256(fingerprint.encode()).hexdigest()  # keys hold no secret in clear
    if key not in _MANIFESTS:
        outcome = dbtRunner().invoke(argv)
        if not outcome.success:
            return None
        _MANIFESTS.clear()  # one project at a time: an older parse is never needed again
        _MANIFESTS[key] = outcome.result
    return _MANIFESTS[key]


def parse_project(settings: Settings, *, run_date: dt.date | None = None,
                  extra_vars: Mapping[str, Any] | None = None,
                  target: str | None = None) -> Any:
    """dbt's parsed project (a ``Manifest``), the one the next ``run_dbt`` with the same
    arguments reuses. ConfigError when dbt cannot parse it (``deltastore build`` says why)."""
    environment = _with_run_date(dbt_environment(settings), settings, run_date, extra_vars)
    with _environment(environment), _collector_skips_what_exists():
        try:
            manifest = _parsed_manifest(settings, environment, extra_vars=extra_vars,
                                        target=target)
        finally:
            _release_duckdb()
    if manifest is None:
        raise ConfigError(f"dbt cannot parse the project in `{settings.dbt_project_dir}`: "
                          "run `deltastore build` without --retry-failed or --changed-only to "
                          "see why")
    return manifest


def run_dbt(settings: Settings, command: str, select: str | None = None, *,
            exclude: str | None = None, full_refresh: bool = False,
            run_date: dt.date | None = None, extra_vars: Mapping[str, Any] | None = None,
            target: str | None = None, echo: Echo | None = print,
            args: Sequence[str] = (), verify_whole_tables: bool = False) -> DbtRun:
    """Run ``dbt <command>`` in this process and return what happened to each node
    (``verify_whole_tables``: the incremental models' tests read every row, not only the
    rows written since they last passed; transform/verification.py).

    Configuration problems dbt finds before running (bad profile, unknown target, parse
    errors) raise ConfigError; node failures come back in ``DbtRun`` (call
    ``raise_for_status`` to turn them into the matching error).
    """
    from dbt.cli.main import dbtRunner

    argv = dbt_args(settings, command, select=select, exclude=exclude, full_refresh=full_refresh,
                    extra_vars=extra_vars, target=target, args=args)
    warehouse = settings.warehouse_url
    if warehouse.kind == "duckdb" and warehouse.path:  # DuckDB creates the file, not its folder
        warehouse.path.parent.mkdir(parents=True, exist_ok=True)
    printer = _NodePrinter(echo, every_node=command in _EXECUTING)
    started = time.monotonic()
    environment = _with_run_date(dbt_environment(settings), settings, run_date, extra_vars)
    # Read by the tests as they run, never while parsing: not part of the parse's key.
    tests = tests_environment(project_fingerprint(settings.dbt_project_dir), extra_vars,
                              verify_whole_tables)
    with _environment({**environment, **tests}), _collector_skips_what_exists():
        try:
            # `debug` only opens a connection: a parsed project would be wasted work.
            manifest = None if command in ("parse", "debug") else _parsed_manifest(
                settings, environment, extra_vars=extra_vars, target=target)
            gc.freeze()  # the parsed project too
            outcome = dbtRunner(manifest=manifest, callbacks=[printer]).invoke(argv)
        finally:
            _release_duckdb()
    if isinstance(outcome.exception, KeyboardInterrupt):
        # dbtRunner returns every exception, Ctrl-C and SIGTERM (workflows.signals) too,
        # after cancelling its queries: the caller was asked to stop, not to go on.
        raise outcome.exception
    nodes = _nodes_from_result(outcome.result) or printer.nodes
    printer.print_missing(nodes)
    run = DbtRun(command=command, success=bool(outcome.success), nodes=nodes,
                 target_dir=target_dir(settings, command))
    if echo and nodes:
        echo(run.summary(time.monotonic() - started))
    if outcome.exception is not None:
        run.error_class = _error_class(outcome.exception)
        run.error = _one_paragraph(outcome.exception)
        if run.error_class is ConfigError or not nodes:
            run.raise_for_status()
    return run


def _release_duckdb() -> None:
    """Close the DuckDB file dbt-duckdb keeps open for the process after a run.

    Otherwise a later step in this process (``deltastore run``: sync, dashboards) cannot
    open the warehouse read-only ("different configuration than existing connections").
    Uses the connection manager's public class methods: ``env()`` (raises when dbt never
    connected) and ``close_all_connections()``, which forgets the environment.
    """
    try:
        from dbt.adapters.duckdb.connections import DuckDBConnectionManager
    except ImportError:  # pragma: no cover - dbt-duckdb is a dependency
        return
    try:
        environment = DuckDBConnectionManager.env()
    except Exception:  # no environment: this run never opened the warehouse
        return
    environment.close()
    DuckDBConnectionManager.close_all_connections()


class _NodePrinter:
    """dbt callback: prints a line as each node finishes (nodes finish on worker threads)."""

    def __init__(self, echo: Echo | None, every_node: bool = True) -> None:
        self.echo = echo
        self.every_node = every_node
        self.nodes: list[NodeResult] = []
        self._printed: set[str] = set()
        self._lock = threading.Lock()

    def __call__(self, event: Any) -> None:
        if event.info.name != "NodeFinished":
            return
        info, result = event.data.node_info, event.data.run_result
        node = NodeResult(
            unique_id=info.unique_id,
            name=info.node_name,
            resource_type=info.resource_type,
            status=result.status,
            seconds=float(result.execution_time or 0.0),
            message=result.message or "",
        )
        with self._lock:
            self.nodes.append(node)
            self._printed.add(node.unique_id)
            self._show(node)

    def _show(self, node: NodeResult) -> None:
        if self.echo and (self.every_node or node.status not in ("success", "pass")):
            self.echo(node.line())

    def print_missing(self, nodes: Sequence[NodeResult]) -> None:
        """Nodes that died with an exception never fire NodeFinished: print them now."""
        for node in nodes:
            if node.unique_id not in self._printed:
                self._show(node)


def _nodes_from_result(result: Any) -> list[NodeResult]:
    """Node results from dbt's result object (run, build, test, freshness, compile ...)."""
    nodes: list[NodeResult] = []
    for item in getattr(result, "results", None) or []:
        node = getattr(item, "node", None)
        if node is None:
            continue
        status = getattr(item.status, "value", item.status)
        resource_type = getattr(node.resource_type, "value", node.resource_type)
        nodes.append(NodeResult(
            unique_id=node.unique_id,
            name=node.name,
            resource_type=str(resource_type),
            status=str(status),
            seconds=float(getattr(item, "execution_time", 0.0) or 0.0),
            message=str(getattr(item, "message", "") or ""),
        ))
    return nodes


def _error_class(exc: BaseException) -> type[Exception]:
    """Map dbt's exception to ours: config/usage/parse problems are not worth a retry."""
    import click
    from dbt.exceptions import DbtProfileError, DbtProjectError, ParsingError
    from dbt_common.exceptions import CompilationError, DbtConfigError

    if isinstance(exc, (click.ClickException, DbtProfileError, DbtProjectError, DbtConfigError,
                        ParsingError, CompilationError)):
        return ConfigError
    return TransientError


def _one_paragraph(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text or type(exc).__name__
