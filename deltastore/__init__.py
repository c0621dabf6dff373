"""DeltaStore: a Kubernetes-native e-commerce ELT pipeline.

This folder holds what every part uses (settings, errors, database URLs and connections,
the raw table definitions, metrics files). The other parts install as subpackages from the
top-level folders the project is known by:

- ``deltastore.extract``    (``extract/``)    sources, warehouse writers, schema drift, demo sources
- ``deltastore.transform``  (``transform/``)  running dbt: runner, build log, manifest, docs, SLO
- ``deltastore.sync``       (``sync/``)       publishing the marts to the sync target (Azure SQL)
- ``deltastore.workflows``  (``workflows/``)  the pipeline, the CLI, the local runner, Argo
- ``deltastore.dashboards`` (``dashboards/``) the static dashboards and exports
- ``deltastore.dbt_project`` (``dbt/``)       the dbt project itself, shipped as package data
"""

__version__ = "0.1.0"
