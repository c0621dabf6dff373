{{ config(**incremental_by_changes(
    'payment_unique_id', 'affected_payment_keys', 'payment_sources')) }}

{#- Incremental: only the payments that raw changes affect are rewritten
    (macros/incremental/). -#}
{%- set since = incremental_since() %}

with

{%- if is_incremental() %}

affected as (

    {{ affected_payments(since) }}

),
{%- endif %}

payments as (

    select * from {{ ref('stg_old_store__payments') }} as payments
    {%- if is_incremental() %}
    where exists (select 1 from affected where affected.payment_id = payments.payment_id)
    {%- endif %}

),

orders as (

    select * from {{ ref('int_orders_unioned') }}

),

final as (

    select
        {{ generate_surrogate_key(['payments.payment_id']) }} as payment_unique_id,
        payments.payment_id,
        payments.order_id,
        -- NULL when the order no longer exists
        orders.unified_order_id,
        payments.payment_method,
        payments.amount,
        payments.transaction_status,
        payments.source_store

    from payments

    left join orders
        on payments.source_store = orders.source_store
        and payments.order_id = orders.order_id

)

select * from final
