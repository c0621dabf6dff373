{{ config(**incremental_by_changes(
    'unified_order_id', 'affected_order_keys', 'order_sources')) }}

{#- Incremental: only the orders that raw changes affect are rewritten
    (macros/incremental/). -#}
{%- set since = incremental_since() %}

with

{%- if is_incremental() %}

affected as (

    {{ affected_orders(since) }}

),
{%- endif %}

old_store_orders as (

    select * from {{ ref('stg_old_store__orders') }} as orders
    {%- if is_incremental() %}
    where exists (select 1 from affected where affected.source_store = orders.source_store
                  and affected.order_id = orders.order_id)
    {%- endif %}

),

carts as (

    select * from {{ ref('stg_new_store__carts') }} as carts
    {%- if is_incremental() %}
    where exists (select 1 from affected where affected.source_store = carts.source_store
                  and affected.order_id = carts.cart_id)
    {%- endif %}

),

cart_items as (

    select * from {{ ref('int_cart_items_priced') }} as items
    {%- if is_incremental() %}
    where exists (select 1 from affected where affected.source_store = items.source_store
                  and affected.order_id = items.cart_id)
    {%- endif %}

),

customers as (

    select * from {{ ref('int_customers_unioned') }}

),

cart_totals as (

    select
        cart_id,
        cast(sum(line_amount) as decimal(12, 2)) as total_price,
        max(_loaded_at) as items_loaded_at
    from cart_items
    group by cart_id

),

-- a cart is the web store's order; a cart without a priced line is not a sale
cart_orders as (

    select
        carts.cart_id as order_id,
        carts.source_store,
        carts.customer_id,
        carts.cart_date as order_date,
        cart_totals.total_price,
        cast(null as {{ dbt.type_timestamp() }}) as updated_at,
        case
            when cart_totals.items_loaded_at > carts._loaded_at then cart_totals.items_loaded_at
            else carts._loaded_at
        end as _loaded_at
    from carts
    inner join cart_totals
        on carts.cart_id = cart_totals.cart_id

),

unioned as (

    select
        order_id,
        source_store,
        customer_id,
        order_date,
        total_price,
        updated_at,
        _loaded_at
    from old_store_orders

    union all

    select
        order_id,
        source_store,
        customer_id,
        order_date,
        total_price,
        updated_at,
        _loaded_at
    from cart_orders

),

final as (

    select
        {{ generate_surrogate_key(['unioned.source_store', 'unioned.order_id']) }} as unified_order_id,
        unioned.order_id,
        unioned.source_store,
        unioned.customer_id,
        -- NULL when the customer no longer exists in its store
        customers.unified_customer_id,
        unioned.order_date,
        unioned.total_price,
        unioned.updated_at,
        unioned._loaded_at

    from unioned

    left join customers
        on unioned.source_store = customers.source_store
        and unioned.customer_id = customers.customer_id

)

select * from final
