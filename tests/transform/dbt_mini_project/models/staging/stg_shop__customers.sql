select
    id as customer_id,
    state as state_code,
    name as customer_name
from {{ source('shop', 'customers') }}
