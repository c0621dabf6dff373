{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='month_subscription',
        on_schema_change='fail',
    )
}}

{#- A customer is new in the month of their first order (web store users have no sign-up
    date). An incremental run recomputes every month from the earliest order month touched
    since the last build (new, changed or deleted orders and cart lines), so it lands on
    the same rows as a full refresh. -#}

{%- set incremental = is_incremental() -%}

with

orders as (

    select * from {{ ref('int_orders_unioned') }}

),

raw_old_orders as (

    select * from {{ source('old_store', 'orders') }}

),

raw_carts as (

    select * from {{ source('new_store', 'carts') }}

),

raw_cart_items as (

    select * from {{ source('new_store', 'cart_items') }}

),

raw_new_products as (

    select * from {{ source('new_store', 'products') }}

),

-- when each raw row was last written, a deletion included
changes as (

    select
        cast(order_date as date) as order_date,
        case when _deleted_at > _loaded_at then _deleted_at else _loaded_at end as changed_at
    from raw_old_orders

    union all

    select
        cast(raw_carts.{{ adapter.quote('date') }} as date) as order_date,
        case when raw_carts._deleted_at > raw_carts._loaded_at then raw_carts._deleted_at else raw_carts._loaded_at end as changed_at
    from raw_carts

    union all

    select
        cast(raw_carts.{{ adapter.quote('date') }} as date) as order_date,
        case when raw_cart_items._deleted_at > raw_cart_items._loaded_at then raw_cart_items._deleted_at else raw_cart_items._loaded_at end as changed_at
    from raw_cart_items
    inner join raw_carts
        on raw_cart_items.cart_id = raw_carts.id

    union all

    -- a product change reprices or drops cart lines anywhere in history
    select
        (select min(cast({{ adapter.quote('date') }} as date)) from raw_carts) as order_date,
        case when _deleted_at > _loaded_at then _deleted_at else _loaded_at end as changed_at
    from raw_new_products

),

loaded_through as (

    select max(changed_at) as loaded_through from changes

),

recompute_from as (

{%- if incremental %}
    select {{ month_start('min(order_date)') }} as first_month
    from changes
    where changed_at > (select max(loaded_through) from {{ this }})
{%- else %}
    select cast(null as date) as first_month
{%- endif %}

),

first_orders as (

    select
        source_store,
        customer_id,
        min(order_date) as first_order_date
    from orders
    group by source_store, customer_id

),

first_order_months as (

    select {{ month_start('first_order_date') }} as month_subscription
    from first_orders

),

monthly as (

    select
        month_subscription,
        count(*) as nb_monthly_customers
    from first_order_months
    group by month_subscription

),

final as (

    select
        monthly.month_subscription,
        monthly.nb_monthly_customers,
        loaded_through.loaded_through
    from monthly
    cross join loaded_through
    {%- if incremental %}
    cross join recompute_from
    where monthly.month_subscription >= recompute_from.first_month
    {%- endif %}

)

select * from final
