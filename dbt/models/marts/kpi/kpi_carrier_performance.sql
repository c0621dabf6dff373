with

shipments as (

    select * from {{ ref('fct_shipments') }}
    where shipment_date <= {{ run_date() }}

),

flagged as (

    select
        carrier,
        case when shipment_status = 'Delivered' then 1 else 0 end as is_delivered,
        case
            when shipment_status = 'Delivered' then days_between_shipment_delivery
        end as delivery_days,
        case
            when shipment_status = 'Delivered'
                and days_between_shipment_delivery <= {{ var('on_time_days') | int }}
                then 1
            else 0
        end as is_on_time
    from shipments

),

by_carrier as (

    select
        carrier,
        count(*) as shipments,
        cast(sum(is_delivered) as bigint) as delivered,
        cast(sum(delivery_days) as bigint) as total_delivery_days,
        count(delivery_days) as timed_deliveries,
        cast(sum(is_on_time) as bigint) as on_time_delivered
    from flagged
    group by carrier

),

rated as (

    select
        carrier,
        shipments,
        delivered,
        {{ safe_divide('delivered', 'shipments') }} as success_rate,
        {{ safe_divide('total_delivery_days', 'timed_deliveries') }} as avg_delivery_days,
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
