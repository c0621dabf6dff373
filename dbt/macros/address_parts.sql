{#- Legacy addresses look like `929 Harbor Rd, Bay View, AK`: comma-separated parts with
    the state last. These return one part counted from the end (1 = last), trimmed, or
    NULL when the address has fewer parts. -#}
{% macro address_part_from_end(expr, position) -%}
    {{ return(adapter.dispatch('address_part_from_end', 'deltastore')(expr, position)) }}
{%- endmacro %}

{% macro default__address_part_from_end(expr, position) -%}
    nullif(trim(string_split({{ expr }}, ',')[-{{ position }}]), '')
{%- endmacro %}

{#- T-SQL has no split-with-index: peel parts off the end with reverse + charindex. -#}
{% macro sqlserver__address_part_from_end(expr, position) -%}
    {%- set ns = namespace(rest='trim(' ~ expr ~ ')') -%}
    {%- for _ in range(position - 1) -%}
        {%- set ns.rest = deltastore.sqlserver__address_without_last_part(ns.rest) -%}
    {%- endfor -%}
    nullif(trim(case
        when charindex(',', {{ ns.rest }}) = 0 then {{ ns.rest }}
        else right({{ ns.rest }}, charindex(',', reverse({{ ns.rest }})) - 1)
    end), '')
{%- endmacro %}

{% macro sqlserver__address_without_last_part(expr) -%}
    trim(case
        when charindex(',', {{ expr }}) = 0 then null
        else left({{ expr }}, len({{ expr }}) - charindex(',', reverse({{ expr }})))
    end)
{%- endmacro %}
