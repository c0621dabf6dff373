{{ config(**incremental_by_changes(
    'unified_order_id', 'affected_order_keys', 'order_sources')) }}

{#- Incremental: only the orders that raw changes affect are rewritten
    (macros/incremental/). -#}
{%- set since = incremental_since() %}

with

{%- if is_incremental() %}

affected as (

    {{ affected_orders(since) }}

),
{%- endif %}

orders as (

    select * from {{ ref('int_orders_unioned') }} as orders
    {%- if is_incremental() %}
    where exists (select 1 from affected where affected.source_store = orders.source_store
                  and affected.order_id = orders.order_id)
    {%- endif %}

),

final as (

    select
        unified_order_id,
        order_id,
        source_store,
        customer_id,
        unified_customer_id,
        order_date,
        total_price,
        updated_at
    from orders

)

select * from final
