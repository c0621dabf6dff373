{#- First day of the month of a date or timestamp, as a date. SQL Server before 2022 has
    no date_trunc, so it builds the date from its parts. -#}
{% macro month_start(expr) -%}
    {{ return(adapter.dispatch('month_start', 'deltastore')(expr)) }}
{%- endmacro %}

{% macro default__month_start(expr) -%}
    cast({{ dbt.date_trunc('month', expr) }} as date)
{%- endmacro %}

{% macro sqlserver__month_start(expr) -%}
    datefromparts(year({{ expr }}), month({{ expr }}), 1)
{%- endmacro %}
