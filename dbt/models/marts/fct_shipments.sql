{{ config(**incremental_by_changes(
    'shipment_id', 'affected_shipment_keys', 'shipment_sources')) }}

{#- Incremental: only the shipments that raw changes affect are rewritten
    (macros/incremental/). -#}
{%- set since = incremental_since() %}

with

{%- if is_incremental() %}

affected as (

    {{ affected_shipments(since) }}

),
{%- endif %}

shipments as (

    select * from {{ ref('stg_old_store__shipments') }} as shipments
    {%- if is_incremental() %}
    where exists (select 1 from affected where affected.shipment_id = shipments.shipment_id)
    {%- endif %}

),

orders as (

    select * from {{ ref('int_orders_unioned') }}

),

final as (

    select
        shipments.shipment_id,
        shipments.order_id,
        -- NULL when the order no longer exists
        orders.unified_order_id,
        orders.unified_customer_id,
        shipments.shipment_date,
        shipments.delivery_date,
        shipments.days_between_shipment_delivery,
        -- the original project's spelling, kept so its dashboards keep working
        shipments.days_between_shipment_delivery as days_between_shipement_delivery,
        shipments.carrier,
        shipments.tracking_number,
        shipments.shipment_status,
        shipments.updated_at,
        shipments.source_store

    from shipments

    left join orders
        on shipments.source_store = orders.source_store
        and shipments.order_id = orders.order_id

)

select * from final
