with

source as (

    select * from {{ source('new_store', 'cart_items') }}

),

renamed as (

    select
        cast(cart_id as bigint) as cart_id,
        cast(product_id as bigint) as product_id,
        cast(quantity as bigint) as quantity,
        'new store' as source_store,
        _loaded_at

    from source

    where _deleted_at is null

)

select * from renamed
