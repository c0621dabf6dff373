{#- dbt's snapshot query, with its two large common table expressions read in place.
    dbt's staging query (snapshots/helpers.sql, default__snapshot_staging_table) reads the
    source (`snapshot_query`) and the current versions (`snapshotted_data`) three times each.
    DuckDB materializes a CTE that a query reads more than once: it first copies both whole,
    every column, before joining. `NOT MATERIALIZED` lets each read take only the columns and
    rows it needs: the same rows in about half the time (docs/performance.md, "The daily
    run"). dbt still writes the query; a later dbt that names the CTEs otherwise gets its
    query unchanged (tests/dbt/test_models.py says so). -#}

{% macro duckdb__snapshot_staging_table(strategy, source_sql, target_relation) -%}
    {%- set staging = dbt.default__snapshot_staging_table(strategy, source_sql,
                                                          target_relation) -%}
    {{- modules.re.sub('\\b(snapshot_query|snapshotted_data)\\s+as\\s*\\(',
                       '\\1 as not materialized (', staging) -}}
{%- endmacro %}
