with

shipment_activity as (

    select * from {{ ref('kpi_shipment_activity') }}

),

-- the filter mart summed over months, stores, states and statuses: delivered and on time
-- are defined once, in kpi_shipment_activity
by_carrier as (

    select
        carrier,
        cast(sum(shipments) as bigint) as shipments,
        cast(sum(delivered) as bigint) as delivered,
        cast(sum(total_delivery_days) as bigint) as total_delivery_days,
        cast(sum(on_time_delivered) as bigint) as on_time_delivered
    from shipment_activity
    group by carrier

),

rated as (

    select
        carrier,
        shipments,
        delivered,
        {{ safe_divide('delivered', 'shipments') }} as success_rate,
        {{ safe_divide('total_delivery_days', 'delivered') }} as avg_delivery_days,
        on_time_delivered,
        {{ safe_divide('on_time_delivered', 'delivered') }} as on_time_rate
    from by_carrier

),

final as (

    select
        carrier,
        shipments,
        delivered,
        success_rate,
        avg_delivery_days,
        on_time_delivered,
        on_time_rate,
        {{ flag('row_number() over (order by success_rate desc, coalesce(on_time_rate, -1) desc, carrier) = 1') }}
            as is_best_carrier
    from rated

)

select * from final
