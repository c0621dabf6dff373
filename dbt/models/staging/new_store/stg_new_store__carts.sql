with

source as (

    select * from {{ source('new_store', 'carts') }}

),

renamed as (

    select
        cast(id as bigint) as cart_id,
        cast(user_id as bigint) as customer_id,
        cast({{ adapter.quote('date') }} as date) as cart_date,
        'new store' as source_store,
        _loaded_at

    from source

    where _deleted_at is null

)

select * from renamed
