with

source as (

    select * from {{ source('old_store', 'shipments') }}

),

renamed as (

    select
        cast(shipment_id as bigint) as shipment_id,
        cast(order_id as bigint) as order_id,
        cast(shipment_date as date) as shipment_date,
        cast(delivery_date as date) as delivery_date,
        {{ dbt.datediff('cast(shipment_date as date)', 'cast(delivery_date as date)', 'day') }}
            as days_between_shipment_delivery,
        {{ canonical_value('carrier', var('carriers')) }} as carrier,
        trim(tracking_number) as tracking_number,
        {{ canonical_value('shipment_status', var('shipment_statuses')) }} as shipment_status,
        cast(updated_at as {{ dbt.type_timestamp() }}) as updated_at,
        'old store' as source_store,
        _loaded_at

    from source

    where _deleted_at is null

)

select * from renamed
