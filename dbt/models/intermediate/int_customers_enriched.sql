{{ config(**incremental_by_changes(
    'unified_customer_id', 'affected_customer_keys', 'customer_sources')) }}

{#- Incremental: only the customers that raw changes affect are rewritten
    (macros/incremental/); a change to the `us_states` seed needs `--full-refresh`. -#}
{%- set since = incremental_since() %}

with

{%- if is_incremental() %}

affected as (

    {{ affected_customers(since) }}

),
{%- endif %}

customers as (

    select * from {{ ref('int_customers_unioned') }} as customers
    {%- if is_incremental() %}
    where exists (select 1 from affected where affected.source_store = customers.source_store
                  and affected.customer_id = customers.customer_id)
    {%- endif %}

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
