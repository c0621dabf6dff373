{{ config(**incremental_by_changes(
    'unified_customer_id', 'affected_customer_keys', 'customer_sources')) }}

{#- Incremental: only the customers that raw changes affect are rewritten
    (macros/incremental/). -#}
{%- set since = incremental_since() %}

with

{%- if is_incremental() %}

affected as (

    {{ affected_customers(since) }}

),
{%- endif %}

customers as (

    select * from {{ ref('int_customers_enriched') }} as customers
    {%- if is_incremental() %}
    where exists (select 1 from affected where affected.source_store = customers.source_store
                  and affected.customer_id = customers.customer_id)
    {%- endif %}

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
