"""Argo Workflows objects for DeltaStore, generated with Hera from ``workflows.pipeline``.

One module per object (``template``: WorkflowTemplate ``deltastore-pipeline``, ``backfill``:
WorkflowTemplate ``deltastore-backfill``, ``cron``: the CronWorkflows), the options they share
(``options``), the renderer that writes YAML (``render``), the cluster client (``kube``) and
the exit-handler notification (``notify``).
"""
