"""Where the files that ship with the package are: the dbt project, and the checkout.

The dbt project (``dbt/`` in the repository) installs as the data package
``deltastore.dbt_project``, so an installed wheel finds it without a checkout. It is only
read: dbt's targets, logs and partial-parse files go under the data directory.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

CHECKOUT_MARKERS = ("workflows/pipeline.py", "charts/deltastore/Chart.yaml")


def bundled_dbt_project() -> Path:
    """The folder of the dbt project that ships with this package.

    A wheel carries it as ``deltastore/dbt_project/`` (setuptools maps ``dbt/`` there); an
    editable install runs from the checkout, where it is ``dbt/`` beside this folder.
    """
    package = Path(str(resources.files("deltastore")))
    installed = package / "dbt_project"
    if (installed / "dbt_project.yml").is_file():
        return installed
    return package.parent / "dbt"


def find_checkout(start: Path | None = None) -> Path | None:
    """The repository checkout that holds ``start`` (default: the working directory)."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if all((folder / marker).is_file() for marker in CHECKOUT_MARKERS):
            return folder
    return None
