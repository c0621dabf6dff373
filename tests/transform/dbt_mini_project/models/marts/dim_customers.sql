select
    customer_id,
    state_code,
    state_name,
    cast('{{ var("run_date") or "2000-01-01" }}' as date) as as_of_date
from {{ ref('int_customers_enriched') }}
