with

shipment_activity as (

    select * from {{ ref('kpi_shipment_activity') }}

),

us_states as (

    select * from {{ ref('us_states') }}

),

-- the filter mart summed over months and stores: delivered and delivery days are defined
-- once, in kpi_shipment_activity
by_state as (

    select
        state_code,
        carrier,
        shipment_status,
        cast(sum(shipments) as bigint) as shipments,
        cast(sum(delivered) as bigint) as delivered,
        cast(sum(total_delivery_days) as bigint) as total_delivery_days
    from shipment_activity
    group by state_code, carrier, shipment_status

),

final as (

    select
        by_state.state_code,
        us_states.state_name,
        by_state.carrier,
        by_state.shipment_status,
        by_state.shipments,
        by_state.delivered,
        by_state.total_delivery_days,
        {{ safe_divide('by_state.total_delivery_days', 'by_state.delivered') }}
            as avg_delivery_days
    from by_state
    left join us_states
        on by_state.state_code = us_states.state_code

)

select * from final
