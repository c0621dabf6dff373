{% if var('break_model') %}
select * from table_that_does_not_exist
{% else %}
select
    c.customer_id,
    c.state_code,
    s.state_name
from {{ ref('stg_shop__customers') }} as c
left join {{ ref('states') }} as s on s.state_code = c.state_code
{% endif %}
