{#- Each customer with every month they ordered in, up to the run date: what the activity
    and cohort KPIs count customers over (kpi_active_customers, kpi_cohort_activity). -#}
{% macro customer_order_months() -%}
    select distinct
        unified_customer_id,
        {{ month_start('order_date') }} as order_month
    from {{ ref('fct_order_customers') }}
    where order_date <= {{ run_date() }}
        and unified_customer_id is not null
{%- endmacro %}
