with

customer_segments as (

    select * from {{ ref('fct_customer_segments') }}

),

us_states as (

    select * from {{ ref('us_states') }}

),

customers_with_state as (

    select
        customer_segments.state_code,
        us_states.state_name,
        customer_segments.segment,
        customer_segments.revenue
    from customer_segments
    left join us_states
        on customer_segments.state_code = us_states.state_code

),

final as (

    -- customers without a known state (all web store users) share the NULL state row
    select
        state_code,
        state_name,
        segment,
        count(*) as customers,
        cast(sum(revenue) as decimal(18, 2)) as revenue
    from customers_with_state
    group by state_code, state_name, segment

)

select * from final
