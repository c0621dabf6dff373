select
    customer_id,
    state_code,
    state_name,
    cast('{{ var("run_date") or "2000-01-01" }}' as date) as as_of_date
    {%- if var('break_contract') %},
    1 as not_in_the_contract
    {%- endif %}
from {{ ref('int_customers_enriched') }}
