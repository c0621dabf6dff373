"""The state list the demo and the dashboards use is the one the dbt seed loads."""

from __future__ import annotations

import csv
from pathlib import Path

from deltastore.us_states import US_STATES

SEED = Path(__file__).resolve().parents[2] / "dbt" / "seeds" / "us_states.csv"


def test_dbt_seed_has_the_same_states_and_names() -> None:
    with SEED.open(newline="") as f:
        seed = {row["state_code"]: row["state_name"] for row in csv.DictReader(f)}
    assert seed == US_STATES
    assert len(US_STATES) == 51
