with

payments as (

    select * from {{ ref('stg_old_store__payments') }}

),

orders as (

    select * from {{ ref('int_orders_unioned') }}

),

final as (

    select
        {{ generate_surrogate_key(['payments.payment_id']) }} as payment_unique_id,
        payments.payment_id,
        payments.order_id,
        -- NULL when the order no longer exists
        orders.unified_order_id,
        payments.payment_method,
        payments.amount,
        payments.transaction_status,
        payments.source_store

    from payments

    left join orders
        on payments.source_store = orders.source_store
        and payments.order_id = orders.order_id

)

select * from final
