"""Debian packages some tests need, and how to tell a missing one from a broken test.

A Python module can be installed while the shared library it loads is not: ``pyodbc`` is on
every machine with the dev extra, but ``import pyodbc`` raises ``ImportError: libodbc.so.2:
cannot open shared object file`` without Debian's ``unixodbc``. Tests that need such a
library skip with the ``apt-get install`` line that fixes it (and fail under ``CI=true``,
where .ci/run installs it); nothing errors at collection.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from types import ModuleType

# Shared library (as the loader names it in its error) -> the Debian package that ships it.
DEBIAN_PACKAGES = {"libodbc.so": "unixodbc", "libgssapi_krb5.so": "libgssapi-krb5-2",
                   "libkrb5.so": "libkrb5-3", "libltdl.so": "libltdl7"}

_MISSING_LIBRARY = re.compile(r"(lib[\w+-]+\.so)(?:\.\d+)*: cannot open shared object file")


def missing_library(message: str) -> str | None:
    """The skip reason for a loader error naming a shared library, else None."""
    found = _MISSING_LIBRARY.search(message)
    if not found:
        return None
    library = found.group(0).split(":")[0]
    package = DEBIAN_PACKAGES.get(found.group(1))
    if package is None:
        return f"cannot load {library}: install the Debian package that ships it"
    return (f"cannot load {library} (Debian package {package} is missing): "
            f"apt-get install {package} (.ci/run installs it)")


def optional_pyodbc() -> ModuleType | None:
    """pyodbc, or None when it cannot load; tests that use it are marked ``odbc``."""
    try:
        import pyodbc
    except ImportError:
        return None
    return pyodbc


def odbc_missing() -> str | None:
    """Why pyodbc cannot load (it needs unixODBC's libodbc.so.2), or None when it can."""
    try:
        import pyodbc  # noqa: F401
    except ImportError as exc:
        return missing_library(str(exc)) or (
            f"needs pyodbc with unixODBC ({exc}): apt-get install unixodbc "
            "(.ci/run installs it)")
    return None


def chromium_missing() -> str | None:
    if shutil.which("chromium") or Path("/usr/bin/chromium").exists():
        return None
    return "needs headless Chromium: apt-get install chromium (.ci/run installs it)"


# Where PyPI's `mssql-python-odbc` wheel (a dev dependency) keeps Microsoft's ODBC Driver 18
# for Debian and Ubuntu. The library must stay in place: it reads its messages from
# ../share/resources/en_US/msodbcsqlr18.rll next to that folder (copied alone, it fails in
# SQLAllocHandle with IM004), and links libodbcinst.so.2 (shipped beside it), Kerberos'
# libkrb5.so.3 / libgssapi_krb5.so.2 and libltdl.so.7 (Debian libgssapi-krb5-2, libltdl7).
# The wheel exists for Linux x86_64 and aarch64 only (the dev extra installs it there).
MSODBCSQL_GLOB = "libs/linux/debian_ubuntu/{arch}/lib/libmsodbcsql-18.*.so*"
_WHEEL_ARCH = {"x86_64": "x86_64", "aarch64": "arm64"}


def msodbcsql_driver() -> Path | None:
    """The real Driver 18 library from the `mssql-python-odbc` wheel, or None."""
    import platform

    try:
        import mssql_python_odbc
    except ImportError:
        return None
    arch = _WHEEL_ARCH.get(platform.machine(), platform.machine())
    found = sorted(Path(mssql_python_odbc.__file__).parent.glob(MSODBCSQL_GLOB.format(
        arch=arch)))
    return found[-1] if found else None


def msodbcsql_missing() -> str | None:
    """Why the wheel's driver cannot load here (the wheel, or a Debian library it links),
    or None when it can."""
    import ctypes

    path = msodbcsql_driver()
    if path is None:
        return ("needs the `mssql-python-odbc` wheel (a dev dependency on Linux x86_64 and "
                "aarch64): pip install -e '.[dev]'")
    try:
        ctypes.CDLL(str(path))
    except OSError as exc:
        return missing_library(str(exc)) or f"cannot load {path.name}: {exc}"
    return None
