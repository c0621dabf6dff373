with

products as (

    select * from {{ ref('int_products_unioned') }}

),

final as (

    select
        unified_product_id,
        product_id,
        product_name,
        description,
        category,
        price,
        supplier_id,
        rating_rate,
        rating_count,
        source_store,
        updated_at
    from products

)

select * from final
