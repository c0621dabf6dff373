-- A delivered shipment needs its delivery date: delivery-time KPIs divide the summed days
-- by the number of delivered shipments.
{{ config(severity='warn') }}

select shipment_id, shipment_status, delivery_date
from {{ ref('fct_shipments') }}
where shipment_status = 'Delivered' and delivery_date is null
