with

source as (

    select * from {{ source('old_store', 'order_items') }}

),

renamed as (

    select
        cast(order_item_id as bigint) as order_item_id,
        cast(order_id as bigint) as order_id,
        cast(product_id as bigint) as product_id,
        cast(quantity as bigint) as quantity,
        cast(round(price_at_purchase, 2) as decimal(12, 2)) as price_at_purchase,
        'old store' as source_store,
        _loaded_at

    from source

    where _deleted_at is null

)

select * from renamed
