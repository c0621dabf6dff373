{#- Fails for every row whose date lies before `min_date` (default 2020-01-01, before the
    store opened) or after the run date: such dates are typos or clock errors. -#}
{% test valid_date_range(model, column_name, min_date='2020-01-01') %}

select {{ column_name }} as invalid_date
from {{ model }}
where cast({{ column_name }} as date) < cast('{{ min_date }}' as date)
    or cast({{ column_name }} as date) > {{ deltastore.run_date() }}

{% endtest %}
