with

customer_segments as (

    select * from {{ ref('fct_customer_segments') }}

),

customer_months as (

    {{ customer_order_months() }}

),

-- each month a customer ordered in, with the month they last ordered in before it: a
-- customer is active in a range of months exactly once, in the first of its months that
-- falls in the range (the one whose previous month lies before the range)
with_previous as (

    select
        unified_customer_id,
        order_month,
        lag(order_month) over (
            partition by unified_customer_id order by order_month
        ) as previous_order_month
    from customer_months

),

final as (

    select
        with_previous.order_month,
        with_previous.previous_order_month,
        customer_segments.source_store,
        customer_segments.segment,
        customer_segments.state_code,
        count(*) as customers
    from with_previous
    inner join customer_segments
        on with_previous.unified_customer_id = customer_segments.unified_customer_id
    group by
        with_previous.order_month,
        with_previous.previous_order_month,
        customer_segments.source_store,
        customer_segments.segment,
        customer_segments.state_code

)

select * from final
