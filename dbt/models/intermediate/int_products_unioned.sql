with

old_store_products as (

    select * from {{ ref('stg_old_store__products') }}

),

new_store_products as (

    select * from {{ ref('stg_new_store__products') }}

),

unioned as (

    select
        product_id,
        source_store,
        product_name,
        cast(null as {{ dbt.type_string() }}) as description,
        category,
        price,
        supplier_id,
        cast(null as {{ type_double() }}) as rating_rate,
        cast(null as bigint) as rating_count,
        updated_at,
        _loaded_at
    from old_store_products

    union all

    select
        product_id,
        source_store,
        product_name,
        description,
        category,
        price,
        cast(null as bigint) as supplier_id,
        rating_rate,
        rating_count,
        -- the store API has no change timestamp
        cast(null as {{ dbt.type_timestamp() }}) as updated_at,
        _loaded_at
    from new_store_products

),

final as (

    select
        {{ generate_surrogate_key(['source_store', 'product_id']) }} as unified_product_id,
        *
    from unioned

)

select * from final
