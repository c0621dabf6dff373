{#- The current time in UTC, as a timestamp without time zone, like every timestamp the
    pipeline writes (`_loaded_at`, the sources' `updated_at`). The adapters' own give local
    time: dbt-sqlserver CAST(SYSDATETIME() AS DATETIME2(6)) (SQL Server's clock zone; Azure
    SQL runs in UTC, a server elsewhere often not), dbt-duckdb now() (the session's zone).
    dbt's snapshot_get_time() (closing hard-deleted snapshot rows) and source freshness use
    current_timestamp() too, so a server behind UTC cannot close a version before it began. -#}

{% macro sqlserver__current_timestamp() -%}
  CAST(SYSUTCDATETIME() AS DATETIME2(6))
{%- endmacro %}

{% macro duckdb__current_timestamp() -%}
  (now() AT TIME ZONE 'UTC')
{%- endmacro %}
