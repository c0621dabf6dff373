with

customer_segments as (

    select * from {{ ref('fct_customer_segments') }}

),

orders as (

    select * from {{ ref('fct_order_customers') }}
    where order_date <= {{ run_date() }}
        and unified_customer_id is not null

),

customer_orders as (

    select
        {{ month_start('orders.order_date') }} as order_month,
        customer_segments.source_store,
        customer_segments.segment,
        customer_segments.state_code,
        orders.unified_customer_id,
        orders.total_price,
        -- a customer counts once, in the month of their first order, so months add up
        case
            when {{ month_start('orders.order_date') }}
                = {{ month_start('customer_segments.first_order_date') }}
                then orders.unified_customer_id
        end as first_order_customer_id
    from orders
    inner join customer_segments
        on orders.unified_customer_id = customer_segments.unified_customer_id

),

final as (

    select
        order_month,
        source_store,
        segment,
        state_code,
        count(*) as orders,
        cast(sum(total_price) as decimal(18, 2)) as revenue,
        count(distinct first_order_customer_id) as new_customers
    from customer_orders
    group by order_month, source_store, segment, state_code

)

select * from final
