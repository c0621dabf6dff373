with

source as (

    select * from {{ source('old_store', 'reviews') }}

),

renamed as (

    select
        cast(review_id as bigint) as review_id,
        cast(product_id as bigint) as product_id,
        cast(customer_id as bigint) as customer_id,
        cast(rating as bigint) as rating,
        trim(review_text) as review_text,
        cast(review_date as date) as review_date,
        'old store' as source_store,
        _loaded_at

    from source

    where _deleted_at is null

)

select * from renamed
