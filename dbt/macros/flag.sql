{#- A yes/no column: BOOLEAN on DuckDB, BIT on SQL Server (which has no boolean type and
    cannot select a predicate directly). Compare it with `= 1` in SQL Server-safe SQL. -#}
{% macro flag(condition) -%}
    cast(case when {{ condition }} then 1 else 0 end as {{ dbt.type_boolean() }})
{%- endmacro %}
