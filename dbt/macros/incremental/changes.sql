{#- Which keys of the incremental models changes in the raw tables affect, since a moment
    (`since`: a SQL timestamp, none for all). A raw row changed when it was written
    (`_loaded_at`) or marked deleted (`_deleted_at`); deleted rows stay in the raw tables,
    so their keys are still known. Each list is a plain select (no CTE: SQL Server takes it
    as a subquery) of distinct keys, and errs on the side of more keys: a key listed that did
    not change is only written again as it was. -#}

{% macro changed_since(since, alias=none) -%}
    {%- set prefix = alias ~ '.' if alias else '' -%}
    {%- if since is none -%}
        1 = 1
    {%- else -%}
        ({{ prefix }}_loaded_at > {{ since }} or {{ prefix }}_deleted_at > {{ since }})
    {%- endif -%}
{%- endmacro %}

{#- Customers: a change to their row (dim_customers and the int models before it). -#}
{% macro affected_customers(since) -%}
    select 'old store' as source_store, cast(customer_id as bigint) as customer_id
    from {{ source('old_store', 'customers') }}
    where {{ changed_since(since) }}
    union
    select 'new store' as source_store, cast(id as bigint) as customer_id
    from {{ source('new_store', 'users') }}
    where {{ changed_since(since) }}
{%- endmacro %}

{% macro affected_customer_keys(since) -%}
    select {{ generate_surrogate_key(['source_store', 'customer_id']) }} as unified_customer_id
    from ({{ affected_customers(since) }}) as affected
{%- endmacro %}

{#- Orders of either store: the order or cart itself; a cart's lines or the products that
    price them (its total); the customer it points to (whether it still exists). -#}
{% macro affected_orders(since) -%}
    select 'old store' as source_store, cast(order_id as bigint) as order_id
    from {{ source('old_store', 'orders') }}
    where {{ changed_since(since) }}
    union
    select 'old store' as source_store, cast(o.order_id as bigint) as order_id
    from {{ source('old_store', 'orders') }} as o
    inner join {{ source('old_store', 'customers') }} as c on o.customer_id = c.customer_id
    where {{ changed_since(since, 'c') }}
    union
    select 'new store' as source_store, cast(id as bigint) as order_id
    from {{ source('new_store', 'carts') }}
    where {{ changed_since(since) }}
    union
    select 'new store' as source_store, cast(cart_id as bigint) as order_id
    from {{ source('new_store', 'cart_items') }}
    where {{ changed_since(since) }}
    union
    select 'new store' as source_store, cast(i.cart_id as bigint) as order_id
    from {{ source('new_store', 'cart_items') }} as i
    inner join {{ source('new_store', 'products') }} as p on i.product_id = p.id
    where {{ changed_since(since, 'p') }}
    union
    select 'new store' as source_store, cast(k.id as bigint) as order_id
    from {{ source('new_store', 'carts') }} as k
    inner join {{ source('new_store', 'users') }} as u on k.user_id = u.id
    where {{ changed_since(since, 'u') }}
{%- endmacro %}

{% macro affected_order_keys(since) -%}
    select {{ generate_surrogate_key(['source_store', 'order_id']) }} as unified_order_id
    from ({{ affected_orders(since) }}) as affected
{%- endmacro %}

{#- Order lines: a legacy line (by its id) when it, its order or its product changed; a cart
    line (by cart and product) when it or anything its cart's order depends on changed. -#}
{% macro affected_order_items(since) -%}
    select 'old store' as source_store, cast(i.order_item_id as bigint) as order_item_id,
        cast(null as bigint) as cart_id, cast(null as bigint) as product_id
    from {{ source('old_store', 'order_items') }} as i
    where {{ changed_since(since, 'i') }}
        or i.order_id in (select order_id from {{ source('old_store', 'orders') }}
                          where {{ changed_since(since) }})
        or i.product_id in (select product_id from {{ source('old_store', 'products') }}
                            where {{ changed_since(since) }})
    union
    select 'new store' as source_store, cast(null as bigint) as order_item_id,
        cast(i.cart_id as bigint) as cart_id, cast(i.product_id as bigint) as product_id
    from {{ source('new_store', 'cart_items') }} as i
    where {{ changed_since(since, 'i') }}
        or cast(i.cart_id as bigint) in (
            select order_id from ({{ affected_orders(since) }}) as orders
            where source_store = 'new store')
{%- endmacro %}

{% macro affected_order_item_keys(since) -%}
    select case
        when source_store = 'old store' then {{ generate_surrogate_key(['order_item_id']) }}
        else {{ generate_surrogate_key(['source_store', 'cart_id', 'product_id']) }}
    end as order_item_unique_id
    from ({{ affected_order_items(since) }}) as affected
{%- endmacro %}

{#- Payments: the payment itself, or its order (whether it still exists). -#}
{% macro affected_payments(since) -%}
    select cast(payment_id as bigint) as payment_id
    from {{ source('old_store', 'payment') }}
    where {{ changed_since(since) }}
        or order_id in (select order_id from {{ source('old_store', 'orders') }}
                        where {{ changed_since(since) }})
{%- endmacro %}

{% macro affected_payment_keys(since) -%}
    select {{ generate_surrogate_key(['payment_id']) }} as payment_unique_id
    from ({{ affected_payments(since) }}) as affected
{%- endmacro %}

{#- Shipments: the shipment itself, or its order (its customer included). -#}
{% macro affected_shipments(since) -%}
    select cast(shipment_id as bigint) as shipment_id
    from {{ source('old_store', 'shipments') }}
    where {{ changed_since(since) }}
        or cast(order_id as bigint) in (
            select order_id from ({{ affected_orders(since) }}) as orders
            where source_store = 'old store')
{%- endmacro %}

{% macro affected_shipment_keys(since) -%}
    {{ affected_shipments(since) }}
{%- endmacro %}

{#- The raw tables each kind of incremental model reads changes from. -#}
{% macro customer_sources() -%}
    {{ return([source('old_store', 'customers'), source('new_store', 'users')]) }}
{%- endmacro %}

{% macro order_sources() -%}
    {{ return([source('old_store', 'orders'), source('old_store', 'customers'),
               source('new_store', 'carts'), source('new_store', 'cart_items'),
               source('new_store', 'products'), source('new_store', 'users')]) }}
{%- endmacro %}

{% macro order_item_sources() -%}
    {{ return([source('old_store', 'order_items'), source('old_store', 'products')]
              + order_sources()) }}
{%- endmacro %}

{% macro payment_sources() -%}
    {{ return([source('old_store', 'payment'), source('old_store', 'orders')]) }}
{%- endmacro %}

{% macro shipment_sources() -%}
    {{ return([source('old_store', 'shipments')] + order_sources()) }}
{%- endmacro %}
