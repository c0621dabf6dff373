-- Fails when dim_customers has fewer rows than the var min_customers (0 by default).
select count(*) as customers
from {{ ref('dim_customers') }}
having count(*) < {{ var('min_customers') }}
