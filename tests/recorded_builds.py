"""The builds the CLI recorded in the test's warehouse, as the tests compare them."""

from __future__ import annotations

import re

from deltastore.settings import Settings
from deltastore.transform.build_log import BuildNode, BuildRecord, last_build


def names(nodes: tuple[BuildNode, ...]) -> set[str]:
    """Unique ids without the hash dbt appends to a generic test's."""
    return {re.sub(r"\.[0-9a-f]{10}$", "", n.unique_id) for n in nodes}


def recorded() -> BuildRecord:
    build = last_build(Settings.from_env())
    assert build is not None
    return build
