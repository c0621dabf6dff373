with

source as (

    select * from {{ source('old_store', 'orders') }}

),

renamed as (

    select
        cast(order_id as bigint) as order_id,
        cast(customer_id as bigint) as customer_id,
        cast(order_date as date) as order_date,
        cast(round(total_price, 2) as decimal(12, 2)) as total_price,
        cast(updated_at as {{ dbt.type_timestamp() }}) as updated_at,
        'old store' as source_store,
        _loaded_at

    from source

    where _deleted_at is null

)

select * from renamed
