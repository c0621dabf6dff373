{#- Fails for every row whose date lies before `min_date` (default 2020-01-01, before the
    store opened) or after the run date: such dates are typos or clock errors. A backfill
    (run date in the past) still accepts rows up to the day the build runs, since orders
    placed after the backfilled day are real. -#}
{% test valid_date_range(model, column_name, min_date='2020-01-01') %}

{%- set run_day = deltastore.run_date_string() -%}
{%- set build_day = run_started_at.strftime('%Y-%m-%d') -%}
{%- set max_date = [run_day, build_day] | max -%}

select {{ column_name }} as invalid_date
from {{ model }}
where cast({{ column_name }} as date) < cast('{{ min_date }}' as date)
    or cast({{ column_name }} as date) > cast('{{ max_date }}' as date)

{% endtest %}
