{#- Same bytes as dbt_utils.generate_surrogate_key, so keys stay compatible with the
    original project: md5 (lowercase hex) of the values cast to text, joined with '-',
    a NULL becoming '_dbt_utils_surrogate_key_null_'. -#}
{% macro generate_surrogate_key(field_list) -%}
    {{ return(adapter.dispatch('generate_surrogate_key', 'deltastore')(field_list)) }}
{%- endmacro %}

{% macro default__generate_surrogate_key(field_list) -%}
    md5({{ deltastore.surrogate_key_text(field_list, dbt.type_string()) }})
{%- endmacro %}

{#- hashbytes over nvarchar would hash UTF-16 bytes: hash varchar and print lowercase hex. -#}
{% macro sqlserver__generate_surrogate_key(field_list) -%}
    lower(convert(varchar(32), hashbytes('md5', {{ deltastore.surrogate_key_text(field_list, 'varchar(8000)') }}), 2))
{%- endmacro %}

{% macro surrogate_key_text(field_list, text_type) -%}
    {%- set parts = [] -%}
    {%- for field in field_list -%}
        {%- do parts.append("coalesce(cast(" ~ field ~ " as " ~ text_type ~ "), '_dbt_utils_surrogate_key_null_')") -%}
        {%- if not loop.last -%}{%- do parts.append("'-'") -%}{%- endif -%}
    {%- endfor -%}
    {%- if parts | length == 1 -%}
        {{ parts[0] }}
    {%- else -%}
        {{ dbt.concat(parts) }}
    {%- endif -%}
{%- endmacro %}
