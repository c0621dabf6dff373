with

customers as (

    select * from {{ ref('int_customers_enriched') }}

),

final as (

    select
        cast(unified_customer_id as varchar(32)) as unified_customer_id,
        customer_id,
        source_store,
        first_name,
        last_name,
        email,
        phone_number,
        address,
        city,
        state_code,
        state_name,
        country_name,
        created_at,
        updated_at
    from customers

)

select * from final
