"""kind.yml builds, loads and installs what the chart and skaffold.yaml describe: the same
image name, Dockerfile, values files, release and namespace, only keys values.yaml has, and
values the chart's schema accepts. The install values are rendered with Helm's own `--set`
parsers (helm-python-sdk) so a type mistake shows here, not on the cluster."""

from __future__ import annotations

import json
import re
from functools import cache
from typing import Any

import jsonschema
import pytest
import yaml
from gha_workflows import (
    REPO,
    WORKFLOWS_DIR,
    commands,
    option_values,
    resolve,
    steps,
    workflow_env,
)

from deltastore.workflows.argo import cron

KIND = WORKFLOWS_DIR / "kind.yml"
CHART = REPO / "charts" / "deltastore"
ENV = workflow_env(KIND)
SKAFFOLD = yaml.safe_load((REPO / "skaffold.yaml").read_text())
# Stands in for `${{ github.sha }}` when rendering: an all-digit tag is the tricky case.
SAMPLE_SHA = "1234567890123456789012345678901234567890"


def kind_profile() -> dict[str, Any]:
    return next(p for p in SKAFFOLD["profiles"] if p["name"] == "kind")


def kind_release() -> dict[str, Any]:
    (release,) = kind_profile()["deploy"]["helm"]["releases"]
    return dict(release)


def run_commands(program: str, *subcommand: str) -> list[list[str]]:
    """Commands of kind.yml's run steps starting with these words, `$VAR`s resolved."""
    found = []
    for step in steps(KIND):
        for argv in commands(step.run or ""):
            resolved = [resolve(word, ENV) for word in argv]
            if resolved[:1 + len(subcommand)] == [program, *subcommand]:
                found.append(resolved)
    return found


def test_image_and_dockerfile_are_skaffolds() -> None:
    (artifact,) = SKAFFOLD["build"]["artifacts"]
    assert ENV["IMAGE_REPOSITORY"] == artifact["image"]
    assert ENV["DOCKERFILE"] == artifact["docker"]["dockerfile"]
    assert (REPO / ENV["DOCKERFILE"]).is_file()
    assert ENV["IMAGE_TAG"] == "${{ github.sha }}", "a tag unique to the commit"


def test_the_built_image_is_the_one_loaded_into_kind() -> None:
    image = f"{ENV['IMAGE_REPOSITORY']}:{ENV['IMAGE_TAG']}"
    (build,) = run_commands("docker", "build")
    assert option_values(build, "--file", "-f") == [ENV["DOCKERFILE"]]
    assert option_values(build, "--tag", "-t") == [image]
    assert build[-1] == ".", "the repository root is the build context (see .dockerignore)"
    # `kind load docker-image` breaks with Docker's containerd image store; an archive works.
    assert not run_commands("kind", "load", "docker-image")
    (save,) = run_commands("docker", "save")
    (load,) = run_commands("kind", "load", "image-archive")
    assert save[-1] == image
    # Only the node's platform: with Docker's containerd image store a multi-platform
    # archive fails to import (kind's workaround, kubernetes-sigs/kind#3795).
    assert option_values(save, "--platform") == ["linux/amd64"]
    assert option_values(save, "--output", "-o") == [load[3]]
    assert option_values(load, "--name") == [ENV["CLUSTER_NAME"]]


def test_cluster_and_context_names_match_skaffold_and_the_tests() -> None:
    assert ENV["KUBE_CONTEXT"] == f"kind-{ENV['CLUSTER_NAME']}" == "kind-deltastore"
    patterns = [a["kubeContext"] for a in kind_profile()["activation"]]
    assert any(re.fullmatch(p, ENV["KUBE_CONTEXT"]) for p in patterns)
    (create,) = [s for s in steps(KIND) if str(s.data.get("uses", "")).startswith(
        "helm/kind-action@")]
    assert create.data["with"]["cluster_name"] == "${{ env.CLUSTER_NAME }}"
    runs = run_commands("python", "-m", "pytest")
    assert [r for r in runs if "tests/kind" in r], "kind.yml runs tests/kind"
    for pytest_run in runs:
        assert option_values(pytest_run, "--kube-context") == [ENV["KUBE_CONTEXT"]]


def helm_install() -> list[str]:
    (install,) = run_commands("helm", "upgrade", "--install") or run_commands("helm", "install")
    return install


def test_helm_install_matches_skaffolds_kind_release() -> None:
    install = helm_install()
    release = kind_release()
    assert install[3:5] == [release["name"], release["chartPath"]]
    assert option_values(install, "--namespace", "-n") == [release["namespace"]]
    assert option_values(install, "--values", "-f") == release["valuesFiles"] == [
        ENV["VALUES_FILE"]]
    # --wait needs the demo PVC Bound: the demo-data Job (a release object, not a hook) is
    # its first consumer; --wait-for-jobs also waits for the data itself.
    assert "--wait" in install and "--wait-for-jobs" in install
    assert "--create-namespace" not in install, "the namespace is created with its labels"


def test_release_namespace_enforces_restricted_before_the_install() -> None:
    kubectl = ["kubectl", "--context", ENV["KUBE_CONTEXT"]]
    (create,) = run_commands(*kubectl, "create", "namespace", ENV["NAMESPACE"])
    (label,) = run_commands(*kubectl, "label", "namespace", ENV["NAMESPACE"])
    assert "pod-security.kubernetes.io/enforce=restricted" in label
    order = [argv for step in steps(KIND) for argv in commands(step.run or "")]
    words = [" ".join(resolve(w, ENV) for w in argv) for argv in order]
    assert words.index(" ".join(label)) < words.index(" ".join(helm_install()))
    assert words.index(" ".join(create)) < words.index(" ".join(label))


def test_argo_gets_full_crds_and_the_documented_executor_config() -> None:
    kubectl = ["kubectl", "--context", ENV["KUBE_CONTEXT"], "apply"]
    applies = run_commands(*kubectl)
    version = ENV["ARGO_WORKFLOWS_VERSION"]
    install, crds, config = applies
    assert install[-1].endswith(f"/releases/download/{version}/install.yaml")
    # After install.yaml, whose stripped CRDs they replace; server-side (they are large).
    assert option_values(crds, "--kustomize", "-k") == [
        f"https://github.com/argoproj/argo-workflows/manifests/base/crds/full?ref={version}"]
    assert "--server-side" in crds
    (path,) = option_values(config, "-f", "--filename")
    assert path == ENV["ARGO_CONTROLLER_CONFIG"] and (REPO / path).is_file()
    restart = run_commands("kubectl", "--context", ENV["KUBE_CONTEXT"], "-n", "argo",
                           "rollout", "restart")
    assert restart, "the controller reads its ConfigMap at start"


def test_schedules_are_suspended_so_only_the_test_run_takes_the_demo_mutex() -> None:
    assert set_values()["workflow"]["suspend"] is True


@cache
def set_values() -> dict[str, Any]:
    """The `--set*` flags of the install, parsed by Helm's own parsers."""
    import helm_python

    parsers = {"--set": helm_python.parse_set_string,
               "--set-string": helm_python.parse_set_string_values,
               "--set-json": helm_python.parse_set_json}
    install = [w.replace(ENV["IMAGE_TAG"], SAMPLE_SHA) for w in helm_install()]
    values: dict[str, Any] = {}
    for flag, parse in parsers.items():
        for expression in option_values(install, flag):
            values = merge(values, parse(expression))
    return values


def merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    result = dict(base)
    for key, value in override.items():
        both_maps = isinstance(value, dict) and isinstance(result.get(key), dict)
        result[key] = merge(result[key], value) if both_maps else value
    return result


def flatten(values: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, dict):
            flat.update(flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def test_set_keys_exist_in_values_yaml_and_cover_skaffolds() -> None:
    defaults = flatten(yaml.safe_load((CHART / "values.yaml").read_text()))
    given = flatten(set_values())
    assert set(given) <= set(defaults), f"unknown keys: {set(given) - set(defaults)}"
    release = kind_release()
    assert set(release["setValueTemplates"]) <= set(given)
    for key, value in release.get("setValues", {}).items():
        assert given[key] == value, key
    assert given["image.repository"] == ENV["IMAGE_REPOSITORY"]
    assert given["image.tag"] == SAMPLE_SHA, "the tag must stay a string"


def install_values() -> dict[str, Any]:
    values = yaml.safe_load((REPO / ENV["VALUES_FILE"]).read_text())
    return merge(values, set_values())


def test_install_values_pass_the_chart_schema() -> None:
    schema = json.loads((CHART / "values.schema.json").read_text())
    defaults = yaml.safe_load((CHART / "values.yaml").read_text())
    jsonschema.validate(merge(defaults, install_values()), schema)
    assert install_values()["demo"]["enabled"] is True


def test_plain_set_would_have_broken_the_scale() -> None:
    """Why the install uses --set-json for the scale: Helm keeps `--set x=0.2` a string."""
    import helm_python

    schema = json.loads((CHART / "values.schema.json").read_text())
    defaults = yaml.safe_load((CHART / "values.yaml").read_text())
    broken = merge(defaults, helm_python.parse_set_string(f"demo.scale={ENV['DEMO_SCALE']}"))
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, schema)


def container_images(obj: dict[str, Any]) -> list[str]:
    """Images of a Deployment's, Job's or WorkflowTemplate's containers."""
    spec = obj.get("spec") or {}
    if obj["kind"] in ("Deployment", "Job"):
        return [c["image"] for c in spec["template"]["spec"]["containers"]]
    if obj["kind"] == "WorkflowTemplate":
        return [t["container"]["image"] for t in spec["templates"] if "container" in t]
    return []


def test_rendered_chart_runs_the_loaded_image_everywhere() -> None:
    import helm_python

    release = kind_release()
    manifests = helm_python.Chart.load(CHART).render(
        install_values(), name=release["name"], namespace=release["namespace"], is_install=True)
    objects = [doc for path, text in manifests.items() if path.endswith(".yaml")
               for doc in yaml.safe_load_all(text) if doc]
    images = {kind: [i for o in objects if o["kind"] == kind for i in container_images(o)]
              for kind in ("Deployment", "Job", "WorkflowTemplate")}
    assert all(images.values()), f"nothing runs an image in {images}"
    assert {i for found in images.values() for i in found} == {
        f"{ENV['IMAGE_REPOSITORY']}:{SAMPLE_SHA}"}
    crons = {o["metadata"]["name"] for o in objects if o["kind"] == "CronWorkflow"}
    assert cron.DAILY in crons, "tests/kind and `workflows submit --from cron` read this one"


def makefile_settings() -> dict[str, str]:
    text = (REPO / "Makefile").read_text()
    return {m.group(1): m.group(2).strip()
            for m in re.finditer(r"^([A-Z_]+) \?= (.*)$", text, re.MULTILINE)}


def test_makefile_kind_targets_use_the_same_settings() -> None:
    make = makefile_settings()
    shared = set(make) & set(ENV) - {"IMAGE_TAG"}
    assert {"CLUSTER_NAME", "IMAGE_REPOSITORY", "VALUES_FILE", "ARGO_WORKFLOWS_VERSION"} <= shared
    assert {name: make[name] for name in shared} == {name: str(ENV[name]) for name in shared}


def test_a_change_to_anything_the_image_copies_runs_the_job() -> None:
    """MINOR-8(a): the path filters cover every folder and file the Dockerfile copies."""
    dockerfile = (REPO / ENV["DOCKERFILE"]).read_text()
    copied = {source.rstrip("/") for line in re.findall(r"^COPY (?!--from=)(.+)$", dockerfile,
                                                         re.MULTILINE)
              for source in line.split()[:-1]}
    assert {"deltastore", "transform", "dashboards", "README.md"} <= copied
    filters = yaml.safe_load(KIND.read_text())[True]   # YAML 1.1 reads `on` as true
    for event in ("pull_request", "push"):
        paths = filters[event]["paths"]
        for source in copied:
            covered = source in paths or any(
                p.endswith("/**") and (source + "/").startswith(p.removesuffix("**"))
                for p in paths)
            assert covered, f"{event}: a change to `{source}` would not run the kind job"


def test_kind_and_its_node_image_are_pinned() -> None:
    """MINOR-8(b): not the action's moving defaults; the node image by digest."""
    (create,) = [s for s in steps(KIND) if str(s.data.get("uses", "")).startswith(
        "helm/kind-action@")]
    given = create.data["with"]
    assert given["version"] == "${{ env.KIND_VERSION }}" and re.fullmatch(
        r"v\d+\.\d+\.\d+", ENV["KIND_VERSION"])
    assert given["node_image"] == "${{ env.KIND_NODE_IMAGE }}" and re.fullmatch(
        r"kindest/node:v[\d.]+@sha256:[0-9a-f]{64}", ENV["KIND_NODE_IMAGE"])
    assert given["kubectl_version"] == "${{ env.KUBECTL_VERSION }}"
    assert ENV["KIND_NODE_IMAGE"].split("@")[0].endswith(ENV["KUBECTL_VERSION"])


def test_unixodbc_is_installed_before_the_suite_is_collected() -> None:
    """MINOR-8(e): `pytest -m kind` collects every test module; pyodbc needs libodbc.so.2."""
    names = [s.data.get("name", "") for s in steps(KIND)]
    runs = [s.run or "" for s in steps(KIND)]
    odbc = next(i for i, run in enumerate(runs) if "apt-get install" in run and
                "unixodbc" in run)
    first_pytest = next(i for i, run in enumerate(runs) if "python -m pytest" in run)
    assert odbc < first_pytest, names
