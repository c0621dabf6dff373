with

shipment_activity as (

    select * from {{ ref('kpi_shipment_activity') }}

),

-- the filter mart summed over months, stores, states and statuses: finished, delivered and
-- on time are defined once, in kpi_shipment_activity
by_carrier as (

    select
        carrier,
        cast(sum(shipments) as bigint) as shipments,
        cast(sum(finished) as bigint) as finished,
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
        finished,
        delivered,
        -- over finished shipments only: a parcel still on its way is not a failure
        {{ safe_divide('delivered', 'finished') }} as success_rate,
        {{ safe_divide('total_delivery_days', 'delivered') }} as avg_delivery_days,
        on_time_delivered,
        {{ safe_divide('on_time_delivered', 'delivered') }} as on_time_rate
    from by_carrier

),

final as (

    select
        carrier,
        shipments,
        finished,
        delivered,
        success_rate,
        avg_delivery_days,
        on_time_delivered,
        on_time_rate,
        -- no carrier is best while none has finished a shipment
        {{ flag('success_rate is not null and row_number() over (order by coalesce(success_rate, -1) desc, coalesce(on_time_rate, -1) desc, carrier) = 1') }}
            as is_best_carrier
    from rated

)

select * from final
