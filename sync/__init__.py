"""Publishing the marts to the sync target (Azure SQL; DuckDB in the demo).

``publish`` runs a sync; ``gate`` decides whether the last dbt build allows one; ``copy``
moves rows into shadow tables; ``statements`` builds the SQL; ``retry`` knows which server
faults are transient.
"""

from deltastore.sync.publish import published_row_counts, sync_marts

__all__ = ["published_row_counts", "sync_marts"]
