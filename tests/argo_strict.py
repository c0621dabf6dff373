"""Strict checks of Argo objects that need nothing outside the repository: walk an object
against hera's generated pydantic models (hera.workflows.models, generated from Argo's
OpenAPI spec) and report every key the model does not define, then let pydantic check the
types. The CRD schemas in ../shared are stricter still and are used when present."""

from __future__ import annotations

import json
import types
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pydantic
from hera.workflows import models

KINDS: dict[str, type[pydantic.BaseModel]] = {
    "WorkflowTemplate": models.WorkflowTemplate, "CronWorkflow": models.CronWorkflow,
    "Workflow": models.Workflow, "ClusterWorkflowTemplate": models.ClusterWorkflowTemplate}


def _models_in(annotation: Any) -> list[Any]:
    """The types a field may hold: unwrap Optional/Union, list[...], dict[str, ...]."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _models_in(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return [m for arg in typing.get_args(annotation) for m in _models_in(arg)]
    return [annotation]


def unknown_keys(value: Any, annotation: Any, path: str = "") -> list[str]:
    """Paths of keys in ``value`` that ``annotation`` (a hera model type) does not define."""
    found: list[str] = []
    for candidate in _models_in(annotation):
        origin = typing.get_origin(candidate)
        if origin in (list, typing.List) and isinstance(value, list):  # noqa: UP006
            (item,) = typing.get_args(candidate)
            for index, element in enumerate(value):
                found += unknown_keys(element, item, f"{path}[{index}]")
            return found
        if origin in (dict, typing.Dict) and isinstance(value, dict):  # noqa: UP006
            _, item = typing.get_args(candidate)
            for key, element in value.items():
                found += unknown_keys(element, item, f"{path}.{key}")
            return found
        if isinstance(candidate, type) and issubclass(candidate, pydantic.RootModel):
            return found          # IntOrString, Quantity, …: a scalar
        if isinstance(candidate, type) and issubclass(candidate, pydantic.BaseModel) \
                and isinstance(value, dict):
            fields = {(f.alias or name): f for name, f in candidate.model_fields.items()}
            for key, element in value.items():
                if key not in fields:
                    found.append(f"{path}.{key}".lstrip("."))
                else:
                    found += unknown_keys(element, fields[key].annotation, f"{path}.{key}")
            return found
    return found


def problems(obj: dict[str, Any]) -> list[str]:
    """Unknown keys and type errors of an Argo object; empty when hera's model accepts it."""
    model = KINDS[obj["kind"]]
    found = [f"unknown key `{p}`" for p in unknown_keys(obj, model)]
    try:
        model.model_validate(obj)
    except pydantic.ValidationError as exc:
        found += [f"`{'.'.join(map(str, e['loc']))}`: {e['msg']}" for e in exc.errors()]
    return found


class ModelValidator:
    """A jsonschema-style validator backed by ``problems``: the fallback without ../shared."""

    def __init__(self, kind: str) -> None:
        self.kind = kind

    def iter_errors(self, obj: dict[str, Any]) -> Iterator[jsonschema.ValidationError]:
        assert obj["kind"] == self.kind, obj["kind"]
        yield from (jsonschema.ValidationError(p) for p in problems(obj))

    def validate(self, obj: dict[str, Any]) -> None:
        for error in self.iter_errors(obj):
            raise error


def strict_validators(schema_dir: Path, kinds: tuple[str, ...] = (
        "WorkflowTemplate", "CronWorkflow")) -> dict[str, Any]:
    """Validators by kind: the strict CRD schemas of ``schema_dir`` (../shared) when it is
    there, else hera's models, so the strict check runs in every clone, never skips."""
    if not schema_dir.is_dir():
        return {kind: ModelValidator(kind) for kind in kinds}
    validators = {}
    for kind in kinds:
        schema = json.loads((schema_dir / f"{kind.lower()}_v1alpha1.json").read_text())
        validators[kind] = jsonschema.validators.validator_for(schema)(schema)
    return validators
