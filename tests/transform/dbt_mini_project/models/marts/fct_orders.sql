{{ config(materialized='incremental', unique_key='order_id') }}
select order_id, customer_id, amount
from (values (10, 1, 5.00), (11, 2, 7.50)) as t (order_id, customer_id, amount)
{% if is_incremental() %}
where order_id > (select max(order_id) from {{ this }})
{% endif %}
