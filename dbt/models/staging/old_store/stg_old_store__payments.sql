with

source as (

    select * from {{ source('old_store', 'payment') }}

),

renamed as (

    select
        cast(payment_id as bigint) as payment_id,
        cast(order_id as bigint) as order_id,
        {{ canonical_value('payment_method', var('payment_methods')) }} as payment_method,
        cast(round(amount, 2) as decimal(12, 2)) as amount,
        {{ canonical_value('transaction_status', var('transaction_statuses')) }} as transaction_status,
        'old store' as source_store,
        _loaded_at

    from source

    where _deleted_at is null

)

select * from renamed
