with

payments as (

    select * from {{ ref('fct_payments') }}

),

orders as (

    select * from {{ ref('fct_order_customers') }}
    where order_date <= {{ run_date() }}

),

-- payments carry no date of their own: they are dated by their order
dated_payments as (

    select
        {{ month_start('orders.order_date') }} as order_month,
        payments.source_store,
        payments.transaction_status,
        payments.amount
    from payments
    inner join orders
        on payments.unified_order_id = orders.unified_order_id

),

final as (

    select
        order_month,
        source_store,
        transaction_status,
        count(*) as payments,
        cast(sum(amount) as decimal(18, 2)) as amount
    from dated_payments
    group by order_month, source_store, transaction_status

)

select * from final
