with

reviews as (

    select * from {{ ref('stg_old_store__reviews') }}

),

products as (

    select * from {{ ref('int_products_unioned') }}

),

customers as (

    select * from {{ ref('int_customers_unioned') }}

),

-- joins match on (source_store, id): the bare id would also match the other store's
-- product or customer with the same number and duplicate the review
final as (

    select
        {{ generate_surrogate_key(['reviews.review_id']) }} as review_unique_id,
        reviews.review_id,
        products.unified_product_id,
        customers.unified_customer_id,
        reviews.product_id,
        reviews.customer_id,
        reviews.rating,
        reviews.review_text,
        reviews.review_date,
        reviews.source_store

    from reviews

    left join products
        on reviews.source_store = products.source_store
        and reviews.product_id = products.product_id

    left join customers
        on reviews.source_store = customers.source_store
        and reviews.customer_id = customers.customer_id

)

select * from final
