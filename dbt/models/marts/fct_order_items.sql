with

order_items as (

    select * from {{ ref('int_order_items_unioned') }}

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
