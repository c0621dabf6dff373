"""Orchestration for DeltaStore: the pipeline definition, the CLI, the local runner and Argo."""
