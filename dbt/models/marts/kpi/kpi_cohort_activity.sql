with

customer_segments as (

    select * from {{ ref('fct_customer_segments') }}

),

customer_months as (

    {{ customer_order_months() }}

),

cohort_members as (

    select
        {{ month_start('customer_segments.first_order_date') }} as cohort_month,
        customer_months.order_month,
        customer_segments.source_store,
        customer_segments.segment,
        customer_segments.state_code
    from customer_months
    inner join customer_segments
        on customer_months.unified_customer_id = customer_segments.unified_customer_id

),

final as (

    -- only months with activity get a row; month 0 holds the whole cohort
    select
        cohort_month,
        {{ dbt.datediff('cohort_month', 'order_month', 'month') }} as months_since_first_order,
        source_store,
        segment,
        state_code,
        count(*) as active_customers
    from cohort_members
    group by cohort_month, order_month, source_store, segment, state_code

)

select * from final
