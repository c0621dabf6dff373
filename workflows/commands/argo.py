"""``deltastore workflows render|submit|status|backfill-days`` and ``deltastore notify``.

Each handler calls one library function of ``workflows.argo``.
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

# hera and the Kubernetes client load inside the handlers that use them, so that every
# other command (and --help) starts without them.
from deltastore.workflows.argo.options import DEFAULT_OPTIONS, RenderOptions
from deltastore.workflows.cli import add_bool_flag, add_command, settings_for

# Render options that are plain strings on the command line: (field, flag, help).
_STRING_OPTIONS = (
    ("image", "--image", "pipeline image reference"),
    ("image_pull_policy", "--image-pull-policy", "Always, IfNotPresent or Never"),
    ("configmap", "--configmap", "ConfigMap with the DELTASTORE_* settings"),
    ("secret", "--secret", "Secret with the credentials"),
    ("service_account", "--service-account", "service account of the workflow pods"),
    ("cpu_request", "--cpu-request", "CPU request per data step"),
    ("memory_request", "--memory-request", "memory request per data step"),
    ("cpu_limit", "--cpu-limit", "CPU limit per data step"),
    ("memory_limit", "--memory-limit", "memory limit per data step"),
    ("light_cpu_request", "--light-cpu-request", "CPU request per light step"),
    ("light_memory_request", "--light-memory-request", "memory request per light step"),
    ("light_cpu_limit", "--light-cpu-limit", "CPU limit per light step"),
    ("light_memory_limit", "--light-memory-limit", "memory limit per light step"),
    ("schedule", "--schedule", "cron schedule of deltastore-daily"),
    ("timezone", "--timezone", "IANA timezone of the schedules"),
    ("freshness_schedule", "--freshness-schedule", "cron schedule of deltastore-freshness"),
    ("data_pvc", "--data-pvc", "PVC for /data shared by the steps (demo variant)"),
    ("dbt_manifest", "--dbt-manifest", "dbt manifest.json for --dbt-granularity layer"),
)


def register(subparsers: argparse._SubParsersAction) -> None:
    group = add_command(subparsers, "workflows", "Render and operate the Argo workflows.",
                        "deltastore workflows render --check")
    commands = group.add_subparsers(dest="workflows_command", metavar="<action>", required=True)

    parser = add_command(commands, "render", "Write the Argo YAML (workflows/manifests/ and "
                         "the chart's files/), or check that it is up to date.",
                         "deltastore workflows render --timezone UTC --check")
    parser.add_argument("--out", type=Path, default=None,
                        help="folder for the plain manifests (default: workflows/manifests/ "
                             "of the checkout you are in)")
    parser.add_argument("--chart-dir", type=Path, default=None,
                        help="folder for the chart's embedded files (default: "
                             "charts/deltastore/files/ of the checkout you are in)")
    add_bool_flag(parser, "--no-chart", "do not write or check the chart files")
    add_bool_flag(parser, "--check", "exit 1 when the files differ from a fresh render")
    for field, flag, text in _STRING_OPTIONS:
        parser.add_argument(flag, dest=field, default=getattr(DEFAULT_OPTIONS, field),
                            help=f"{text} (default: %(default)s)")
    parser.add_argument("--dbt-granularity", choices=("single", "layer"), default="single",
                        help="one dbt build task, or one per dbt layer")
    add_bool_flag(parser, "--suspend", "render deltastore-daily suspended")
    add_bool_flag(parser, "--artifacts", "export dbt artifacts (needs an artifact repository)")
    add_bool_flag(parser, "--allow-dst-schedule",
                  "accept a schedule that daylight saving skips or repeats")
    parser.set_defaults(handler=_render)

    parser = add_command(commands, "submit", "Start a workflow on the cluster.",
                         "deltastore workflows submit --param run-date=2026-01-31 --wait")
    parser.add_argument("--from", dest="source", choices=("template", "cron"),
                        default="template", help="run the WorkflowTemplate, or the "
                        "CronWorkflow's spec (default: %(default)s)")
    parser.add_argument("--name", help="template or CronWorkflow name (default: "
                        "deltastore-pipeline / deltastore-daily)")
    parser.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                        help="workflow parameter; repeat for more")
    add_bool_flag(parser, "--wait", "follow the workflow; exit 0 only if it succeeds")
    _add_cluster_options(parser)
    parser.add_argument("--timeout", type=float, default=6 * 3600,
                        help="seconds to wait with --wait (default: %(default)s)")
    add_bool_flag(parser, "--dry-run", "print the Workflow instead of creating it")
    parser.set_defaults(handler=_submit)

    parser = add_command(commands, "status", "Show a workflow's steps: phase, duration, "
                         "message.", "deltastore workflows status deltastore-pipeline-x7k2p")
    parser.add_argument("name", help="workflow name")
    _add_cluster_options(parser)
    parser.set_defaults(handler=_status)

    parser = add_command(commands, "backfill-days", "Print the days of a backfill range as "
                         "JSON (used by deltastore-backfill).",
                         "deltastore workflows backfill-days --start 2026-01-01 --end 2026-01-07")
    parser.add_argument("--start", required=True, help="first day, YYYY-MM-DD")
    parser.add_argument("--end", required=True, help="last day, YYYY-MM-DD (included)")
    parser.set_defaults(handler=_backfill_days)

    parser = add_command(subparsers, "notify", "Print a workflow's outcome and post failures "
                         "to DELTASTORE_NOTIFY_WEBHOOK_URL (the Argo exit handler).",
                         "deltastore notify --workflow wf-1 --status Failed "
                         "--failures '\"[{\\\"displayName\\\":\\\"sync\\\",\\\"message\\\":"
                         "\\\"exit 1\\\"}]\"'")
    parser.add_argument("--workflow", required=True, help="workflow name")
    parser.add_argument("--status", required=True, help="Succeeded, Failed or Error")
    parser.add_argument("--failures", default="",
                        help="{{workflow.failures}} as Argo passes it (Go-quoted JSON, e.g. "
                        "'\"null\"'); plain JSON works too; unreadable input is logged, "
                        "never an error")
    parser.set_defaults(handler=_notify)


def options_from_args(args: argparse.Namespace) -> RenderOptions:
    values = {f.name: getattr(args, f.name) for f in dataclasses.fields(RenderOptions)
              if hasattr(args, f.name)}
    return RenderOptions(**values)


def _render(args: argparse.Namespace) -> int:
    from deltastore.workflows.argo import render

    out_dir, chart_dir = render.output_dirs(args.out, args.chart_dir, args.no_chart)
    return render.render_command(options_from_args(args), out_dir, chart_dir, args.check)


def _submit(args: argparse.Namespace) -> int:
    from deltastore.workflows.argo import kube

    return kube.submit_workflow(kube.SubmitRequest(
        source=args.source, name=args.name, params=tuple(args.param), wait=args.wait,
        namespace=args.namespace, context=args.context, timeout=args.timeout,
        dry_run=args.dry_run, kubeconfig=args.kubeconfig))


def _status(args: argparse.Namespace) -> int:
    from deltastore.workflows.argo import kube

    return kube.show_status(args.name, args.namespace, args.context, args.kubeconfig)


def _backfill_days(args: argparse.Namespace) -> int:
    from deltastore.workflows.argo import backfill

    print(backfill.days_json(args.start, args.end))
    return 0


def _notify(args: argparse.Namespace) -> int:
    from deltastore.workflows.argo import notify

    notify.notify(args.workflow, args.status, args.failures,
                  settings_for(args).notify_webhook_url)
    return 0


def _add_cluster_options(parser: argparse.ArgumentParser) -> None:
    """Which cluster and namespace; `-n` as in kubectl and argo."""
    parser.add_argument("-n", "--namespace", help="namespace (default: the context's)")
    parser.add_argument("--context", help="kubeconfig context (default: the current one)")
    parser.add_argument("--kubeconfig", help="kubeconfig file (default: $KUBECONFIG)")
