with

orders as (

    select * from {{ ref('fct_order_customers') }}

),

{%- set loaded_models = [
    'int_customers_unioned', 'int_products_unioned', 'int_orders_unioned',
    'stg_old_store__order_items', 'stg_new_store__cart_items', 'stg_old_store__payments',
    'stg_old_store__reviews', 'stg_old_store__shipments', 'stg_old_store__suppliers',
] %}

loads as (
{% for model in loaded_models %}
    select max(_loaded_at) as loaded_at from {{ ref(model) }}
    {% if not loop.last %}union all{% endif %}
{%- endfor %}

),

run_info as (

    select
        {{ run_date() }} as run_date,
        cast({{ dbt.current_timestamp() }} as {{ dbt.type_timestamp() }}) as built_at,
        {{ var('on_time_days') | int }} as on_time_days

),

order_dates as (

    select
        min(order_date) as first_order_date,
        max(order_date) as last_order_date
    from orders
    where order_date <= {{ run_date() }}

),

last_load as (

    select max(loaded_at) as last_loaded_at from loads

),

final as (

    select
        run_info.run_date,
        run_info.built_at,
        order_dates.first_order_date,
        order_dates.last_order_date,
        last_load.last_loaded_at,
        run_info.on_time_days
    from run_info
    cross join order_dates
    cross join last_load

)

select * from final
