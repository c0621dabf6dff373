"""NOTES.txt tells how to trigger a run now, watch it and find the results."""

from __future__ import annotations

import helmrender
import pytest


@pytest.fixture(scope="module")
def notes(renders: dict[str, helmrender.Rendering]) -> dict[str, str]:
    found = {name: r.notes for name, r in renders.items()}
    if any(text is None for text in found.values()):
        pytest.skip("`helm template` does not print NOTES.txt; the SDK backend renders it "
                    "(outside the repository: which helm is on PATH)")
    return {name: text or "" for name, text in found.items()}


def test_notes_show_three_ways_to_trigger_a_run(notes: dict[str, str]) -> None:
    for text in notes.values():
        assert "argo submit --from cronwf/deltastore-daily -n deltastore" in text
        assert ("deltastore workflows submit --from cron --name deltastore-daily "
                "-n deltastore --wait") in text
        assert "kubectl create -n deltastore -f - <<'YAML'" in text
        assert "workflowTemplateRef:\n    name: deltastore-pipeline\nYAML\n" in text


def test_notes_say_where_results_are(notes: dict[str, str]) -> None:
    assert "/data/sync_target.duckdb" in notes["demo-values.yaml"]
    assert "marts.database.windows.net" in notes["default-values.yaml"]
    assert "argo watch @latest -n deltastore" in notes["default-values.yaml"]


def test_notes_manual_workflow_is_a_valid_workflow(notes: dict[str, str]) -> None:
    import yaml
    from hera.workflows.models import Workflow

    text = notes["default-values.yaml"]
    body = text.split("<<'YAML'\n", 1)[1].split("\nYAML\n", 1)[0]
    workflow = Workflow.model_validate(yaml.safe_load(body))
    assert workflow.spec.workflow_template_ref is not None
    assert workflow.spec.workflow_template_ref.name == "deltastore-pipeline"
