with

source as (

    select * from {{ source('new_store', 'products') }}

),

renamed as (

    select
        cast(id as bigint) as product_id,
        trim(title) as product_name,
        trim(description) as description,
        lower(trim(category)) as category,
        cast(round(price, 2) as decimal(12, 2)) as price,
        cast(rating_rate as {{ type_double() }}) as rating_rate,
        cast(rating_count as bigint) as rating_count,
        trim(image) as image_url,
        'new store' as source_store,
        _loaded_at

    from source

    where _deleted_at is null

)

select * from renamed
