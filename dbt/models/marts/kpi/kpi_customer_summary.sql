with

customers as (

    select * from {{ ref('dim_customers') }}

),

orders as (

    select * from {{ ref('fct_order_customers') }}
    where order_date <= {{ run_date() }}

),

customer_count as (

    -- the web store's users have no sign-up date: they count whatever the run date
    select count(*) as customers
    from customers
    where created_at is null or cast(created_at as date) <= {{ run_date() }}

),

order_totals as (

    select
        count(distinct unified_customer_id) as ordering_customers,
        count(*) as orders,
        cast(coalesce(sum(total_price), 0) as decimal(18, 2)) as revenue
    from orders

),

final as (

    select
        customer_count.customers,
        order_totals.ordering_customers,
        order_totals.orders,
        order_totals.revenue,
        cast(round(order_totals.revenue / nullif(order_totals.orders, 0), 2) as decimal(18, 2))
            as average_order_value
    from customer_count
    cross join order_totals

)

select * from final
