"""SQL Server errors become the error class (exit code) their error number calls for.

The errors are built as pyodbc builds them (src/errors.cpp, GetErrorFromHandle):
``args = (sqlstate, "[SQLSTATE] <driver text> (<native error>) (<ODBC function>)")``.
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
from deltastore.mssql_errors import classify, is_transient, native_error

pyodbc = optional_pyodbc()  # no unixODBC: every test here is marked odbc and skips with why
pytestmark = pytest.mark.odbc

DRIVER = "[Microsoft][ODBC Driver 18 for SQL Server][SQL Server]"


def odbc_error(cls: type[Exception], state: str, text: str, number: int,
               function: str = "SQLExecDirectW") -> Exception:
    return cls(state, f"[{state}] {DRIVER}{text} ({number}) ({function})")


@pytest.mark.parametrize(("state", "number", "exit_code"), [
    ("40001", 1205, EXIT_FAILED),   # deadlock victim
    ("HYT00", 1222, EXIT_FAILED),   # lock request time out
    ("42000", 40613, EXIT_FAILED),  # database not currently available
    ("42000", 40501, EXIT_FAILED),  # service busy
    ("42000", 49919, EXIT_FAILED),
    ("42000", 10928, EXIT_FAILED),
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
    exc = odbc_error(pyodbc.ProgrammingError, state, "something went wrong.", number)
    assert native_error(exc) == number
    error = classify(exc, "merging `old_store.orders`")
    assert error.exit_code == exit_code
    assert "merging `old_store.orders` failed" in str(error)
    assert (f"SQL Server error {number}" in str(error)) or state.startswith("08")


def test_a_number_in_the_message_text_is_not_the_error_number() -> None:
    text = "Invalid object name 'errors (40613) log'. Hint: retry (40501)."
    exc = odbc_error(pyodbc.ProgrammingError, "42S02", text, 208)
    assert native_error(exc) == 208
    assert not is_transient(exc)
    assert isinstance(classify(exc, "x"), ConfigError)


def test_other_exceptions_are_left_alone() -> None:
    assert native_error(ValueError("(1205) (SQLExecDirectW)")) is None
    assert not is_transient(ValueError("(1205) (SQLExecDirectW)"))
    assert is_transient(TransientError("locked"))
    assert isinstance(classify(odbc_error(pyodbc.IntegrityError, "23000", "dup", 2601), "x"),
                      DataError)
