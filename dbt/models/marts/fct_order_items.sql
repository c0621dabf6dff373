{{ config(**incremental_by_changes(
    'order_item_unique_id', 'affected_order_item_keys', 'order_item_sources')) }}

{#- Incremental: only the order lines that raw changes affect are rewritten
    (macros/incremental/). -#}
{%- set since = incremental_since() %}

with

{%- if is_incremental() %}

affected as (

    {{ affected_order_item_keys(since) }}

),
{%- endif %}

order_items as (

    select * from {{ ref('int_order_items_unioned') }} as items
    {%- if is_incremental() %}
    where exists (select 1 from affected
                  where affected.order_item_unique_id = items.order_item_unique_id)
    {%- endif %}

),

final as (

    select
        order_item_unique_id,
        order_item_id,
        order_id,
        unified_order_id,
        product_id,
        unified_product_id,
        quantity,
        price_at_purchase,
        line_amount,
        source_store
    from order_items

)

select * from final
