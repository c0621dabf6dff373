select
    customer_id,
    state_code,
    state_name,
    cast('{{ var("run_date") or env_var("DELTASTORE_DBT_RUN_DATE", "2000-01-01") }}' as date)
        as as_of_date
    {%- if var('break_contract') %},
    1 as not_in_the_contract
    {%- endif %}
from {{ ref('int_customers_enriched') }}
{%- if var('slow_model') %}
-- Minutes of work DuckDB cannot skip: a build that is still running when it is stopped.
where (select count(*) from range(1000000000000) as r (i) where hash(i) = 0) >= 0
{%- endif %}
