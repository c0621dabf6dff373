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

old_store_customers as (

    select * from {{ ref('stg_old_store__customers') }} as customers
    {%- if is_incremental() %}
    where exists (select 1 from affected where affected.source_store = customers.source_store
                  and affected.customer_id = customers.customer_id)
    {%- endif %}

),

new_store_users as (

    select * from {{ ref('stg_new_store__users') }} as users
    {%- if is_incremental() %}
    where exists (select 1 from affected where affected.source_store = users.source_store
                  and affected.customer_id = users.customer_id)
    {%- endif %}

),

unioned as (

    select
        customer_id,
        source_store,
        first_name,
        last_name,
        email,
        phone_number,
        address,
        city,
        state_code,
        created_at,
        updated_at,
        _loaded_at
    from old_store_customers

    union all

    select
        customer_id,
        source_store,
        first_name,
        last_name,
        email,
        phone_number,
        address,
        city,
        -- the web store's users carry no state
        cast(null as {{ dbt.type_string() }}) as state_code,
        cast(null as {{ dbt.type_timestamp() }}) as created_at,
        cast(null as {{ dbt.type_timestamp() }}) as updated_at,
        _loaded_at
    from new_store_users

),

final as (

    select
        {{ generate_surrogate_key(['source_store', 'customer_id']) }} as unified_customer_id,
        *
    from unioned

)

select * from final
