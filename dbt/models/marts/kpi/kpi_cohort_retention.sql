with

orders as (

    select * from {{ ref('fct_order_customers') }}
    where order_date <= {{ run_date() }}
        and unified_customer_id is not null

),

customer_months as (

    select distinct
        unified_customer_id,
        {{ month_start('order_date') }} as order_month
    from orders

),

first_months as (

    select
        unified_customer_id,
        min(order_month) as cohort_month
    from customer_months
    group by unified_customer_id

),

cohorts as (

    select
        cohort_month,
        count(*) as cohort_size
    from first_months
    group by cohort_month

),

activity_months as (

    select distinct order_month from customer_months

),

-- every cohort gets a row for every later month with orders, active or not
grid as (

    select
        cohorts.cohort_month,
        cohorts.cohort_size,
        activity_months.order_month
    from cohorts
    inner join activity_months
        on activity_months.order_month >= cohorts.cohort_month

),

active as (

    select
        first_months.cohort_month,
        customer_months.order_month,
        count(*) as active_customers
    from customer_months
    inner join first_months
        on customer_months.unified_customer_id = first_months.unified_customer_id
    group by first_months.cohort_month, customer_months.order_month

),

final as (

    select
        grid.cohort_month,
        {{ dbt.datediff('grid.cohort_month', 'grid.order_month', 'month') }}
            as months_since_first_order,
        grid.cohort_size,
        coalesce(active.active_customers, 0) as active_customers,
        {{ safe_divide('coalesce(active.active_customers, 0)', 'grid.cohort_size') }}
            as retention_rate

    from grid

    left join active
        on grid.cohort_month = active.cohort_month
        and grid.order_month = active.order_month

)

select * from final
