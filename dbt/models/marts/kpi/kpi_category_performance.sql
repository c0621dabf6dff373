with

product_performance as (

    select * from {{ ref('kpi_product_performance') }}

),

by_category as (

    select
        category,
        count(*) as products,
        cast(sum(revenue) as decimal(18, 2)) as revenue,
        cast(sum(units_sold) as bigint) as units_sold,
        -- weight each product's average by its number of reviews
        {{ safe_divide('sum(coalesce(average_rating, 0) * review_count)', 'sum(review_count)') }}
            as average_rating,
        cast(sum(review_count) as bigint) as review_count
    from product_performance
    group by category

),

final as (

    select
        category,
        products,
        revenue,
        units_sold,
        average_rating,
        review_count,
        {{ flag('average_rating < 3') }} as is_low_rating
    from by_category

)

select * from final
