with

payment_activity as (

    select * from {{ ref('kpi_payment_activity') }}

),

-- the filter mart summed over months and stores: one definition of a dated payment
by_status as (

    select
        transaction_status,
        cast(sum(payments) as bigint) as payments,
        cast(sum(amount) as decimal(18, 2)) as amount
    from payment_activity
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
