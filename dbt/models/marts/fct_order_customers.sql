with

orders as (

    select * from {{ ref('int_orders_unioned') }}

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
