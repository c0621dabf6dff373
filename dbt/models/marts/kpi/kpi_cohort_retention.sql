with

cohort_activity as (

    select * from {{ ref('kpi_cohort_activity') }}

),

-- kpi_cohort_activity summed over stores, segments and states: who belongs to a cohort
-- and who was active when is defined there once
cells as (

    select
        cohort_month,
        months_since_first_order,
        cast(sum(active_customers) as bigint) as active_customers
    from cohort_activity
    group by cohort_month, months_since_first_order

),

cohorts as (

    select
        cohort_month,
        active_customers as cohort_size
    from cells
    where months_since_first_order = 0

),

activity_months as (

    select distinct
        cast({{ dbt.dateadd('month', 'months_since_first_order', 'cohort_month') }} as date)
            as order_month
    from cells

),

-- every cohort gets a row for every later month with orders, active or not
grid as (

    select
        cohorts.cohort_month,
        cohorts.cohort_size,
        {{ dbt.datediff('cohorts.cohort_month', 'activity_months.order_month', 'month') }}
            as months_since_first_order
    from cohorts
    inner join activity_months
        on activity_months.order_month >= cohorts.cohort_month

),

final as (

    select
        grid.cohort_month,
        grid.months_since_first_order,
        grid.cohort_size,
        coalesce(cells.active_customers, 0) as active_customers,
        {{ safe_divide('coalesce(cells.active_customers, 0)', 'grid.cohort_size') }}
            as retention_rate

    from grid

    left join cells
        on grid.cohort_month = cells.cohort_month
        and grid.months_since_first_order = cells.months_since_first_order

)

select * from final
