{{ config(**incremental_by_changes(
    'order_item_unique_id', 'affected_order_item_keys', 'order_item_sources')) }}

{#- Incremental: only the order lines that raw changes affect are rewritten
    (macros/incremental/). The lines are unioned here, not in an intermediate table of
    the same rows: nothing else reads them, and a copy in between doubled the daily work
    on the build's longest path (docs/performance.md). -#}
{%- set since = incremental_since() %}

with

{%- if is_incremental() %}

affected as (

    {{ affected_order_items(since) }}

),
{%- endif %}

old_store_order_items as (

    select * from {{ ref('stg_old_store__order_items') }} as items
    {%- if is_incremental() %}
    where exists (select 1 from affected where affected.source_store = items.source_store
                  and affected.order_item_id = items.order_item_id)
    {%- endif %}

),

cart_items as (

    select * from {{ ref('int_cart_items_priced') }} as items
    {%- if is_incremental() %}
    where exists (select 1 from affected where affected.source_store = items.source_store
                  and affected.cart_id = items.cart_id and affected.product_id = items.product_id)
    {%- endif %}

),

orders as (

    select * from {{ ref('int_orders_unioned') }}

),

products as (

    select * from {{ ref('int_products_unioned') }}

),

unioned as (

    select
        -- same key as the original project: md5 of the legacy line id alone
        {{ generate_surrogate_key(['order_item_id']) }} as order_item_unique_id,
        order_item_id,
        order_id,
        product_id,
        quantity,
        price_at_purchase,
        cast(quantity * price_at_purchase as decimal(12, 2)) as line_amount,
        source_store
    from old_store_order_items

    union all

    select
        -- a cart line has no id of its own: it is its cart and product
        {{ generate_surrogate_key(['source_store', 'cart_id', 'product_id']) }}
            as order_item_unique_id,
        cast(null as bigint) as order_item_id,
        cart_id as order_id,
        product_id,
        quantity,
        price_at_purchase,
        line_amount,
        source_store
    from cart_items

),

final as (

    select
        unioned.order_item_unique_id,
        unioned.order_item_id,
        unioned.order_id,
        orders.unified_order_id,
        unioned.product_id,
        products.unified_product_id,
        unioned.quantity,
        unioned.price_at_purchase,
        unioned.line_amount,
        unioned.source_store

    from unioned

    left join orders
        on unioned.source_store = orders.source_store
        and unioned.order_id = orders.order_id

    left join products
        on unioned.source_store = products.source_store
        and unioned.product_id = products.product_id

)

select * from final
