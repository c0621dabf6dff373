with

shipments as (

    select * from {{ ref('fct_shipments') }}
    where shipment_date <= {{ run_date() }}

),

customers as (

    select * from {{ ref('dim_customers') }}

),

flagged as (

    select
        {{ month_start('shipments.shipment_date') }} as shipment_month,
        shipments.source_store,
        customers.state_code,
        shipments.carrier,
        shipments.shipment_status,
        case when shipments.shipment_status = 'Delivered' then 1 else 0 end as is_delivered,
        case
            when shipments.shipment_status in (
                {%- for status in var('open_shipment_statuses') %}
                '{{ status }}'{{ "," if not loop.last }}
                {%- endfor %}
            ) then 0
            else 1
        end as is_finished,
        case
            when shipments.shipment_status = 'Delivered'
                then shipments.days_between_shipment_delivery
        end as delivery_days,
        case
            when shipments.shipment_status = 'Delivered'
                and shipments.days_between_shipment_delivery <= {{ var('on_time_days') | int }}
                then 1
            else 0
        end as is_on_time
    from shipments
    left join customers
        on shipments.unified_customer_id = customers.unified_customer_id

),

final as (

    select
        shipment_month,
        source_store,
        state_code,
        carrier,
        shipment_status,
        count(*) as shipments,
        cast(sum(is_finished) as bigint) as finished,
        cast(sum(is_delivered) as bigint) as delivered,
        cast(coalesce(sum(delivery_days), 0) as bigint) as total_delivery_days,
        cast(sum(is_on_time) as bigint) as on_time_delivered
    from flagged
    group by shipment_month, source_store, state_code, carrier, shipment_status

)

select * from final
