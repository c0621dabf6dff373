{#- Split a person's name at the first space: `Mary Ann Lee` -> `Mary` + `Ann Lee`;
    a one-word name has no last name (NULL) instead of failing. -#}
{% macro first_word(expr) -%}
    case
        when {{ dbt.position("' '", 'trim(' ~ expr ~ ')') }} = 0 then nullif(trim({{ expr }}), '')
        else substring(trim({{ expr }}), 1, {{ dbt.position("' '", 'trim(' ~ expr ~ ')') }} - 1)
    end
{%- endmacro %}

{% macro after_first_word(expr) -%}
    case
        when {{ dbt.position("' '", 'trim(' ~ expr ~ ')') }} = 0 then null
        else nullif(trim(substring(
            trim({{ expr }}),
            {{ dbt.position("' '", 'trim(' ~ expr ~ ')') }} + 1,
            {{ dbt.length('trim(' ~ expr ~ ')') }}
        )), '')
    end
{%- endmacro %}
