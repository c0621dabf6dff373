{#- A customer is new in the month of their first order (web store users have no sign-up
    date). A table, rebuilt whole every run: it has one row per month (a few dozen), and an
    incremental delete+insert could not drop a month whose every order was deleted, nor
    refill an empty table, so it could drift from a full refresh. -#}

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

    select case when _deleted_at > _loaded_at then _deleted_at else _loaded_at end as changed_at
    from raw_old_orders

    union all

    select case when _deleted_at > _loaded_at then _deleted_at else _loaded_at end as changed_at
    from raw_carts

    union all

    select case when _deleted_at > _loaded_at then _deleted_at else _loaded_at end as changed_at
    from raw_cart_items

    union all

    select case when _deleted_at > _loaded_at then _deleted_at else _loaded_at end as changed_at
    from raw_new_products

),

loaded_through as (

    select max(changed_at) as loaded_through from changes

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

)

select * from final
