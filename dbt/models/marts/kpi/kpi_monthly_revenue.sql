with

orders as (

    select * from {{ ref('fct_order_customers') }}
    where order_date <= {{ run_date() }}

),

order_months as (

    select
        {{ month_start('order_date') }} as order_month,
        total_price
    from orders

),

monthly as (

    select
        order_month,
        count(*) as orders,
        cast(sum(total_price) as decimal(18, 2)) as revenue
    from order_months
    group by order_month

),

first_month as (

    select min(order_month) as first_order_month from monthly

),

indexed as (

    select
        monthly.order_month,
        monthly.orders,
        monthly.revenue,
        cast(round(monthly.revenue / nullif(monthly.orders, 0), 2) as decimal(18, 2))
            as average_order_value,
        -- months since the first month, so gaps stay gaps in the trend line
        cast({{ dbt.datediff('first_month.first_order_month', 'monthly.order_month', 'month') }}
            as {{ type_double() }}) as month_index
    from monthly
    cross join first_month

),

means as (

    select
        avg(month_index) as x_mean,
        avg(cast(revenue as {{ type_double() }})) as y_mean
    from indexed

),

slope as (

    -- least squares slope: sum((x - mean x) * (y - mean y)) / sum((x - mean x)^2); NULL for one month
    select
        sum((indexed.month_index - means.x_mean) * (cast(indexed.revenue as {{ type_double() }}) - means.y_mean))
        / nullif(sum((indexed.month_index - means.x_mean) * (indexed.month_index - means.x_mean)), 0)
            as revenue_slope
    from indexed
    cross join means

),

with_previous as (

    select
        indexed.*,
        lag(order_month) over (order by order_month) as previous_month,
        lag(revenue) over (order by order_month) as previous_revenue,
        lag(average_order_value) over (order by order_month) as previous_average_order_value
    from indexed

),

final as (

    select
        with_previous.order_month,
        with_previous.orders,
        with_previous.revenue,
        with_previous.average_order_value,
        cast(round(
            means.y_mean + coalesce(slope.revenue_slope, 0) * (with_previous.month_index - means.x_mean),
            2) as decimal(18, 2)) as revenue_trend,
        -- growth against the calendar month before; NULL when that month had no orders
        case
            when with_previous.previous_month = cast({{ dbt.dateadd('month', -1, 'with_previous.order_month') }} as date)
                then {{ safe_divide('with_previous.revenue - with_previous.previous_revenue', 'with_previous.previous_revenue') }}
        end as revenue_mom_growth,
        case
            when with_previous.previous_month = cast({{ dbt.dateadd('month', -1, 'with_previous.order_month') }} as date)
                then {{ safe_divide('with_previous.average_order_value - with_previous.previous_average_order_value', 'with_previous.previous_average_order_value') }}
        end as aov_mom_growth

    from with_previous
    cross join means
    cross join slope

)

select * from final
