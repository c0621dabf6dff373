{#- Map free-text values to their canonical spelling, case- and space-insensitively;
    an unknown value keeps its trimmed text so accepted_values tests surface it. -#}
{% macro canonical_value(expr, canonical_values) -%}
    case lower(trim({{ expr }}))
    {%- for value in canonical_values %}
        when '{{ value | lower }}' then '{{ value }}'
    {%- endfor %}
        else trim({{ expr }})
    end
{%- endmacro %}
