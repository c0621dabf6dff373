{#- The date standing in for "today": var run_date (YYYY-MM-DD) or the run's start date
    (UTC), so a rerun or a backfill gives the same numbers. -#}
{% macro run_date_string() -%}
    {%- set value = var('run_date', '') | string | trim -%}
    {%- if value in ('', 'None') -%}
        {{ return(run_started_at.strftime('%Y-%m-%d')) }}
    {%- endif -%}
    {%- if not modules.re.match('^[0-9]{4}-[0-9]{2}-[0-9]{2}$', value) -%}
        {{ exceptions.raise_compiler_error(
            "var `run_date` is `" ~ value ~ "`; pass a date as YYYY-MM-DD, e.g. "
            ~ "--vars '{run_date: 2025-01-31}'") }}
    {%- endif -%}
    {%- do modules.datetime.datetime.strptime(value, '%Y-%m-%d') -%}
    {{ return(value) }}
{%- endmacro %}

{% macro run_date() -%}
    cast('{{ deltastore.run_date_string() }}' as date)
{%- endmacro %}
