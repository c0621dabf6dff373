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
        1 as is_order,
        orders.total_price,
        null as is_new_customer
    from orders
    inner join customer_segments
        on orders.unified_customer_id = customer_segments.unified_customer_id

),

-- a customer counts once, in the month of their first order, so months add up; each one
-- has an order in that month (first_order_date is the first of the same orders), so this
-- adds to a month's group and never makes one. Counted apart rather than counted distinct:
-- DuckDB spills a plain aggregate to disk, not a DISTINCT one.
first_orders as (

    select
        {{ month_start('first_order_date') }} as order_month,
        source_store,
        segment,
        state_code,
        null as is_order,
        null as total_price,
        1 as is_new_customer
    from customer_segments

),

final as (

    select
        order_month,
        source_store,
        segment,
        state_code,
        count(is_order) as orders,
        cast(sum(total_price) as decimal(18, 2)) as revenue,
        count(is_new_customer) as new_customers
    from (
        select * from customer_orders
        union all
        select * from first_orders
    ) as activity
    group by order_month, source_store, segment, state_code
    having count(is_order) > 0

)

select * from final
