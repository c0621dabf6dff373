with

products as (

    select * from {{ ref('fct_products') }}

),

order_items as (

    select * from {{ ref('fct_order_items') }}

),

orders as (

    select * from {{ ref('fct_order_customers') }}
    where order_date <= {{ run_date() }}

),

reviews as (

    select * from {{ ref('fct_reviews') }}
    where review_date <= {{ run_date() }}

),

sales as (

    select
        order_items.unified_product_id,
        sum(order_items.line_amount) as revenue,
        cast(sum(order_items.quantity) as bigint) as units_sold
    from order_items
    inner join orders
        on order_items.unified_order_id = orders.unified_order_id
    group by order_items.unified_product_id

),

review_totals as (

    select
        unified_product_id,
        sum(cast(rating as {{ type_double() }})) as rating_total,
        count(*) as review_count
    from reviews
    group by unified_product_id

),

-- legacy products are rated by their reviews; the web store's API only publishes its
-- own average and count, which stand in for reviews there
ratings as (

    select
        products.unified_product_id,
        case
            when products.source_store = 'new store'
                then products.rating_rate * products.rating_count
            else review_totals.rating_total
        end as rating_total,
        case
            when products.source_store = 'new store' then coalesce(products.rating_count, 0)
            else coalesce(review_totals.review_count, 0)
        end as review_count
    from products
    left join review_totals
        on products.unified_product_id = review_totals.unified_product_id

),

measured as (

    select
        products.unified_product_id,
        products.source_store,
        products.product_id,
        products.product_name,
        products.category,
        cast(coalesce(sales.revenue, 0) as decimal(18, 2)) as revenue,
        coalesce(sales.units_sold, 0) as units_sold,
        {{ safe_divide('ratings.rating_total', 'ratings.review_count') }} as average_rating,
        ratings.review_count
    from products
    left join sales
        on products.unified_product_id = sales.unified_product_id
    left join ratings
        on products.unified_product_id = ratings.unified_product_id

),

final as (

    select
        unified_product_id,
        source_store,
        product_id,
        product_name,
        category,
        revenue,
        units_sold,
        average_rating,
        review_count,
        {{ flag('average_rating < 3') }} as is_low_rating,
        rank() over (partition by category order by revenue desc) as category_revenue_rank
    from measured

)

select * from final
