with

product_performance as (

    select * from {{ ref('kpi_product_performance') }}

),

final as (

    -- rating_total / review_count is the review-weighted rating of any set of rows
    select
        category,
        source_store,
        count(*) as products,
        count(average_rating) as rated_products,
        -- the rule of kpi_product_performance.is_low_rating
        sum(case when average_rating < 3 then 1 else 0 end) as low_rated_products,
        cast(sum(revenue) as decimal(18, 2)) as revenue,
        cast(sum(units_sold) as bigint) as units_sold,
        sum(coalesce(average_rating, 0) * review_count) as rating_total,
        cast(sum(review_count) as bigint) as review_count
    from product_performance
    group by category, source_store

)

select * from final
