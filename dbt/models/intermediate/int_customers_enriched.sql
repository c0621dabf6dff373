with

customers as (

    select * from {{ ref('int_customers_unioned') }}

),

us_states as (

    select * from {{ ref('us_states') }}

),

final as (

    select
        customers.unified_customer_id,
        customers.customer_id,
        customers.source_store,
        customers.first_name,
        customers.last_name,
        customers.email,
        customers.phone_number,
        customers.address,
        customers.city,
        -- only codes that name a real state survive; anything else becomes NULL
        us_states.state_code,
        us_states.state_name,
        us_states.country_name,
        customers.created_at,
        customers.updated_at,
        customers._loaded_at

    from customers

    left join us_states
        on customers.state_code = us_states.state_code

)

select * from final
