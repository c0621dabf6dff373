with

customer_segments as (

    select * from {{ ref('fct_customer_segments') }}

),

final as (

    select
        segment,
        count(*) as customers,
        cast(sum(revenue) as decimal(18, 2)) as revenue,
        cast(round(sum(revenue) / nullif(sum(orders), 0), 2) as decimal(18, 2))
            as average_order_value
    from customer_segments
    group by segment

)

select * from final
