with

shipments as (

    select * from {{ ref('fct_shipments') }}
    where shipment_date <= {{ run_date() }}

),

customers as (

    select * from {{ ref('dim_customers') }}

),

located as (

    select
        customers.state_code,
        customers.state_name,
        shipments.carrier,
        shipments.shipment_status,
        case when shipments.shipment_status = 'Delivered' then 1 else 0 end as is_delivered,
        case
            when shipments.shipment_status = 'Delivered'
                then shipments.days_between_shipment_delivery
        end as delivery_days
    from shipments
    left join customers
        on shipments.unified_customer_id = customers.unified_customer_id

),

final as (

    select
        state_code,
        state_name,
        carrier,
        shipment_status,
        count(*) as shipments,
        cast(sum(is_delivered) as bigint) as delivered,
        cast(coalesce(sum(delivery_days), 0) as bigint) as total_delivery_days,
        {{ safe_divide('sum(delivery_days)', 'count(delivery_days)') }} as avg_delivery_days
    from located
    group by state_code, state_name, carrier, shipment_status

)

select * from final
