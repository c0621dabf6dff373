with

order_items as (

    select * from {{ ref('fct_order_items') }}

),

orders as (

    select * from {{ ref('fct_order_customers') }}
    where order_date <= {{ run_date() }}

),

products as (

    select * from {{ ref('fct_products') }}

),

lines as (

    select
        {{ month_start('orders.order_date') }} as order_month,
        products.source_store,
        products.category,
        order_items.line_amount,
        order_items.quantity
    from order_items
    inner join orders
        on order_items.unified_order_id = orders.unified_order_id
    inner join products
        on order_items.unified_product_id = products.unified_product_id

),

final as (

    select
        order_month,
        source_store,
        category,
        count(*) as order_lines,
        cast(sum(line_amount) as decimal(18, 2)) as revenue,
        cast(sum(quantity) as bigint) as units_sold
    from lines
    group by order_month, source_store, category

)

select * from final
