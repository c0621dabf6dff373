with

cart_items as (

    select * from {{ ref('stg_new_store__cart_items') }}

),

products as (

    select * from {{ ref('stg_new_store__products') }}

),

final as (

    -- the API keeps no price history: a cart line is priced at the product's current price;
    -- a line whose product vanished from the catalogue cannot be priced and is left out
    select
        cart_items.cart_id,
        cart_items.product_id,
        cart_items.quantity,
        products.price as price_at_purchase,
        cast(cart_items.quantity * products.price as decimal(12, 2)) as line_amount,
        cart_items.source_store,
        cart_items._loaded_at

    from cart_items

    inner join products
        on cart_items.product_id = products.product_id

)

select * from final
