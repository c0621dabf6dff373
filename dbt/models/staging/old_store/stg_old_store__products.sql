with

source as (

    select * from {{ source('old_store', 'products') }}

),

renamed as (

    select
        cast(product_id as bigint) as product_id,
        trim(product_name) as product_name,
        lower(trim(category)) as category,
        cast(round(price, 2) as decimal(12, 2)) as price,
        cast(supplier_id as bigint) as supplier_id,
        cast(updated_at as {{ dbt.type_timestamp() }}) as updated_at,
        'old store' as source_store,
        _loaded_at

    from source

    where _deleted_at is null

)

select * from renamed
