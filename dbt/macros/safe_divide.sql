{#- A fraction as a float, NULL when the denominator is 0: SQL Server would otherwise
    truncate integer division and raise on division by zero. -#}
{% macro safe_divide(numerator, denominator) -%}
    cast({{ numerator }} as {{ deltastore.type_double() }}) / nullif({{ denominator }}, 0)
{%- endmacro %}
