-- Every order and every payment must be for a positive amount: a zero or negative total
-- means a broken price, an empty cart that slipped through, or a refund booked as a sale.
with

orders as (

    select * from {{ ref('fct_order_customers') }}

),

payments as (

    select * from {{ ref('fct_payments') }}

),

failures as (

    select unified_order_id as record_id, total_price as amount, 'order' as record_type
    from orders
    where total_price is null or total_price <= 0

    union all

    select payment_unique_id as record_id, amount, 'payment' as record_type
    from payments
    where amount is null or amount <= 0

)

select * from failures
