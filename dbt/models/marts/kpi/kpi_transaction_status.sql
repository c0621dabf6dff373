with

payments as (

    select * from {{ ref('fct_payments') }}

),

orders as (

    select * from {{ ref('fct_order_customers') }}
    where order_date <= {{ run_date() }}

),

-- a payment belongs to the run date's history through its order's date
dated_payments as (

    select
        payments.transaction_status,
        payments.amount
    from payments
    inner join orders
        on payments.unified_order_id = orders.unified_order_id

),

by_status as (

    select
        transaction_status,
        count(*) as payments,
        cast(sum(amount) as decimal(18, 2)) as amount
    from dated_payments
    group by transaction_status

),

final as (

    select
        transaction_status,
        payments,
        amount,
        {{ safe_divide('amount', 'sum(amount) over ()') }} as amount_share
    from by_status

)

select * from final
