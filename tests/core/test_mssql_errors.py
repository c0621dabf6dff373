"""SQL Server errors become the error class (exit code) their error number calls for.

The errors are built exactly as pyodbc builds them (mkleehammer/pyodbc src/errors.cpp,
GetErrorFromHandle, tag 5.3.0): ``args = (sqlstate, message)``, the first diagnostic record
as ``[SQLSTATE] <text> (<native error>) (<ODBC function>)`` and, on Windows only (the loop
ends after one record elsewhere), every further record as ``; [SQLSTATE] <text> (<n>)``.
pyodbc's own errors (RaiseErrorV) carry ``args = (message, sqlstate)``. The two-record
messages are the ones the review quotes: mkleehammer/pyodbc#892 (duplicate key) and
yehoshuadimarsky/bcpandas#28 (login refused). The Driver 18 texts marked "real" were
printed by Microsoft's driver from the `mssql-python-odbc` wheel here
(tests/core/test_real_odbc_driver.py raises them live).
"""

from __future__ import annotations

import pytest
from prerequisites import optional_pyodbc

from deltastore.errors import (
    EXIT_CONFIG,
    EXIT_DATA,
    EXIT_FAILED,
    ConfigError,
    DataError,
    TransientError,
)
from deltastore.mssql_errors import (
    classify,
    describe,
    error_class,
    is_transient,
    message_class,
    native_error,
    records,
)

pyodbc = optional_pyodbc()  # no unixODBC: every test here is marked odbc and skips with why
pytestmark = pytest.mark.odbc

DRIVER = "[Microsoft][ODBC Driver 18 for SQL Server][SQL Server]"
CLIENT = "[Microsoft][ODBC Driver 18 for SQL Server]"


def odbc_error(cls: type[Exception], state: str, text: str, number: int,
               function: str = "SQLExecDirectW", *more: tuple[str, str, int]) -> Exception:
    """An error as GetErrorFromHandle builds it; ``more`` are the Windows-only records."""
    message = f"[{state}] {text} ({number}) ({function})"
    message += "".join(f"; [{s}] {t} ({n})" for s, t, n in more)
    return cls(state, message)


@pytest.mark.parametrize(("state", "number", "exit_code"), [
    ("40001", 1205, EXIT_FAILED),   # deadlock victim
    ("HYT00", 1222, EXIT_FAILED),   # lock request time out
    ("42000", 40613, EXIT_FAILED),  # database not currently available
    ("42000", 40501, EXIT_FAILED),  # service busy
    ("42000", 49919, EXIT_FAILED),
    ("42000", 10928, EXIT_FAILED),
    ("42000", 40552, EXIT_FAILED),  # session ended: transaction log use
    ("HY000", 8645, EXIT_FAILED),   # waiting for memory
    ("HY000", 701, EXIT_FAILED),
    ("HY000", 1204, EXIT_FAILED),   # out of lock resources
    ("HY000", 3961, EXIT_FAILED),   # snapshot read met a concurrent DDL change
    ("08S01", 10054, EXIT_FAILED),  # connection reset
    ("08001", 0, EXIT_FAILED),      # cannot connect: no number, the state says it
    ("42000", 102, EXIT_CONFIG),    # syntax error
    ("42000", 229, EXIT_CONFIG),    # permission denied
    ("42S02", 208, EXIT_CONFIG),    # invalid object name
    ("28000", 18456, EXIT_CONFIG),  # login failed
    ("23000", 2627, EXIT_DATA),     # duplicate key
    ("22007", 241, EXIT_DATA),      # conversion from text failed
    ("22001", 8152, EXIT_DATA),     # would be truncated
])
def test_the_error_number_decides_the_exit_code(state: str, number: int,
                                                exit_code: int) -> None:
    exc = odbc_error(pyodbc.ProgrammingError, state, f"{DRIVER}something went wrong.", number)
    assert native_error(exc) == (number or None)
    error = classify(exc, "merging `old_store.orders`")
    assert error.exit_code == exit_code
    assert "merging `old_store.orders` failed" in str(error)
    assert (f"SQL Server error {number}" in str(error)) or state.startswith("08")


def test_a_number_in_the_message_text_is_not_the_error_number() -> None:
    text = f"{DRIVER}Invalid object name 'errors (40613) log'. Hint: retry (40501)."
    exc = odbc_error(pyodbc.ProgrammingError, "42S02", text, 208)
    assert native_error(exc) == 208
    assert not is_transient(exc)
    assert isinstance(classify(exc, "x"), ConfigError)


# --- the two-record forms (pyodbc on Windows; the review's examples) ----------------------

def test_a_duplicate_key_with_its_terminated_record_is_a_data_error() -> None:
    duplicate = odbc_error(
        pyodbc.IntegrityError, "23000",
        f"{DRIVER}Violation of PRIMARY KEY constraint 'PK__scope_ap__C8B2203B483E8976'. "
        "Cannot insert duplicate key in object 'scope.scope_appraisal'. The duplicate key "
        "value is (1784977, 1).", 2627, "SQLExecDirectW",
        ("23000", f"{DRIVER}The statement has been terminated.", 3621))
    found = records(duplicate.args[1])
    assert [(r.state, r.number) for r in found] == [("23000", 2627), ("23000", 3621)]
    assert "(1784977, 1)." in found[0].text  # the key value is text, not the number
    assert native_error(duplicate) == 2627
    error = classify(duplicate, "merging `old_store.orders`")
    assert isinstance(error, DataError) and error.exit_code == EXIT_DATA
    assert "SQL Server error 2627" in str(error)


@pytest.mark.parametrize("number", [515, 547, 2628, 8115])
def test_every_data_error_with_a_second_record_stays_a_data_error(number: int) -> None:
    exc = odbc_error(pyodbc.IntegrityError, "23000", f"{DRIVER}bad row.", number,
                     "SQLExecDirectW", ("01000", f"{DRIVER}The statement has been terminated.",
                                        3621))
    assert error_class(exc) is DataError


def test_a_login_refused_while_the_database_fails_over_is_retried() -> None:
    """18456 first, 4060 (cannot open database: an Azure SQL failover) after it."""
    exc = odbc_error(
        pyodbc.InterfaceError, "28000",
        f"{DRIVER}Login failed for user 'loader'.", 18456, "SQLDriverConnect",
        ("42000", f"{DRIVER}Cannot open database \"warehouse\" requested by the login. The "
                  "login failed.", 4060),
        ("28000", f"{DRIVER}Login failed for user 'loader'.", 18456))
    assert native_error(exc) == 18456
    assert is_transient(exc)
    assert isinstance(classify(exc, "connecting"), TransientError)


def test_an_azure_failover_at_login_is_retried_in_either_form() -> None:
    text = (f"{DRIVER}Database 'warehouse' on server 'ds' is not currently available. Please "
            "retry the connection later.")
    linux = odbc_error(pyodbc.Error, "HY000", text, 40613, "SQLDriverConnect")
    windows = odbc_error(pyodbc.Error, "HY000", text, 40613, "SQLDriverConnect",
                         ("HY000", f"{DRIVER}Login failed for user 'loader'.", 18456))
    assert error_class(linux) is error_class(windows) is TransientError


def test_two_extract_pods_creating_one_schema_is_retried() -> None:
    exc = odbc_error(pyodbc.ProgrammingError, "42S01",
                     f"{DRIVER}There is already an object named 'old_store' in the database.",
                     2714, "SQLExecDirectW",
                     ("42000", f"{DRIVER}CREATE SCHEMA failed due to previous errors.", 2759))
    assert is_transient(exc)


# --- what the driver refuses before any network, and pyodbc's own errors -----------------

@pytest.mark.parametrize(("cls", "state", "text", "exit_code"), [
    # real (Driver 18.6 from the wheel):
    ("OperationalError", "08001", f"{CLIENT}Invalid value specified for connection string "
                                  "attribute 'Authentication'", EXIT_CONFIG),
    ("OperationalError", "08001", f"{CLIENT}Neither DSN nor SERVER keyword supplied",
     EXIT_CONFIG),
    ("Error", "FA005", f"{CLIENT}Cannot use Access Token with any of the following options: "
                       "Authentication, Integrated Security, User, Password.", EXIT_CONFIG),
    ("Error", "01000", "[unixODBC][Driver Manager]Can't open lib 'ODBC Driver 18 for SQL "
                       "Server' : file not found", EXIT_CONFIG),
    ("OperationalError", "HYT00", f"{CLIENT}Login timeout expired", EXIT_FAILED),
    ("OperationalError", "08001", f"{CLIENT}Client unable to establish connection because an "
                                  "error was encountered during handshakes before login.",
     EXIT_FAILED),
    # Driver 18 refusing the server's certificate (Encrypt=yes, the default):
    ("OperationalError", "08001", f"{CLIENT}SSL Provider: [error:0A000086:SSL routines::"
                                  "certificate verify failed:self-signed certificate]",
     EXIT_CONFIG),
])
def test_the_drivers_own_refusals(cls: str, state: str, text: str, exit_code: int) -> None:
    number = -1 if "SSL" in text else 26 if "handshakes" in text else 0
    exc = odbc_error(getattr(pyodbc, cls), state, text, number, "SQLDriverConnect")
    error = classify(exc, "connecting to `mssql://h/db`")
    assert error.exit_code == exit_code, error
    if "Can't open lib" in text:
        assert "msodbcsql18" in str(error)
    if "certificate" in text:
        assert "trust_server_certificate" in str(error)


def test_pyodbcs_own_truncation_error_is_a_data_error() -> None:
    """RaiseErrorV(0, ProgrammingError, "String data, right truncation: length %u buffer
    %u") in src/params.cpp: args are (message, "HY000")."""
    exc = pyodbc.ProgrammingError("String data, right truncation: length 9000 buffer 8000",
                                  "HY000")
    assert native_error(exc) is None
    error = classify(exc, "staging `old_store.reviews`")
    assert isinstance(error, DataError)
    assert "SQLSTATE HY000" in str(error) and "length 9000" in str(error)


def test_a_permission_error_names_the_fix() -> None:
    exc = odbc_error(pyodbc.ProgrammingError, "42000",
                     f"{DRIVER}Cannot find the object 'dim_customers', because it does not "
                     "exist or you do not have permission.", 15151)
    error = classify(exc, "the swap")
    assert isinstance(error, ConfigError)
    assert "deltastore doctor" in str(error)
    assert describe(exc).startswith("error 15151: Cannot find the object 'dim_customers'")


def test_a_dbt_node_message_quoting_a_driver_error_is_classified() -> None:
    """dbt-sqlserver raises DbtDatabaseError(str(pyodbc_error)): the node's message quotes
    the tuple's repr."""
    denied = odbc_error(pyodbc.ProgrammingError, "42000",
                        f"{DRIVER}CREATE TABLE permission denied in database 'warehouse'.", 262)
    message = f"Database Error in model dim_customers (models/marts/dim_customers.sql)\n  {denied}"
    assert message_class(message) is ConfigError
    locked = odbc_error(pyodbc.OperationalError, "HYT00", f"{DRIVER}Lock request time out "
                        "period exceeded.", 1222)
    assert message_class(f"Database Error\n  {locked}") is TransientError
    assert message_class("Compilation Error in model x") is None


def test_other_exceptions_are_left_alone() -> None:
    assert native_error(ValueError("(1205) (SQLExecDirectW)")) is None
    assert not is_transient(ValueError("(1205) (SQLExecDirectW)"))
    assert is_transient(TransientError("locked"))
    assert isinstance(classify(odbc_error(pyodbc.IntegrityError, "23000", "dup", 2601), "x"),
                      DataError)
