with

customers as (

    select * from {{ ref('dim_customers') }}

),

orders as (

    select * from {{ ref('fct_order_customers') }}
    where order_date <= {{ run_date() }}
        and unified_customer_id is not null

),

cutoff as (

    select cast({{ dbt.dateadd('month', -6, run_date()) }} as date) as six_months_ago

),

customer_orders as (

    select
        unified_customer_id,
        min(order_date) as first_order_date,
        max(order_date) as last_order_date,
        count(*) as orders,
        cast(sum(total_price) as decimal(18, 2)) as revenue
    from orders
    group by unified_customer_id

),

final as (

    select
        customers.unified_customer_id,
        customers.source_store,
        customers.customer_id,
        customers.state_code,
        customer_orders.first_order_date,
        customer_orders.last_order_date,
        customer_orders.orders,
        customer_orders.revenue,
        case
            when customer_orders.first_order_date >= cutoff.six_months_ago then 'new'
            when customer_orders.last_order_date < cutoff.six_months_ago then 'at-risk'
            else 'casual'
        end as segment

    from customer_orders

    inner join customers
        on customer_orders.unified_customer_id = customers.unified_customer_id

    cross join cutoff

)

select * from final
