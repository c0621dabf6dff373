"""Data movement for DeltaStore: sources, warehouse writers, the Azure SQL sync, demo sources."""
