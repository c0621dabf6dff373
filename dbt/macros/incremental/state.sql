{#- Incremental models: what each has taken in, and the strategy that replaces what changed.

    `meta.dbt_incremental_state` holds, per incremental model, `loaded_through`: the newest
    change (a raw row's `_loaded_at`, or `_deleted_at` for a deletion) the model had seen
    when it was last built. A run takes the raw rows changed after it, finds the keys of the
    model they affect (macros/incremental/changes.sql), deletes those keys and inserts their
    rows as they are now: a key with no row any more stays deleted. The state row is written
    by the model's post-hook, in the model's own transaction, so it never runs ahead of the
    data. Extracts and builds run one after the other (the pipeline's order; a DuckDB
    warehouse cannot even be written by both at once): a change committed by an extract
    while a build runs may be missed by that build's incremental models until
    `--full-refresh`. -#}

{#- The config of a model built this way: `{{ config(**incremental_by_changes(...)) }}`
    with its key, the macro listing the keys changes affect and the one listing the raw
    tables it reads changes from. -#}
{% macro incremental_by_changes(unique_key, affected_keys, sources) -%}
    {{ return({
        'materialized': 'incremental',
        'incremental_strategy': 'delete_affected',
        'unique_key': unique_key,
        'affected_keys': affected_keys,
        'on_schema_change': 'fail',
        'post_hook': '{{ record_incremental_state(' ~ sources ~ '()) }}',
    }) }}
{%- endmacro %}

{% macro incremental_state_relation() -%}
    {{ return(api.Relation.create(database=target.database, schema='meta',
                                  identifier='dbt_incremental_state')) }}
{%- endmacro %}

{#- on-run-start: the state table, made once. -#}
{% macro create_incremental_state() -%}
    {{ return(adapter.dispatch('create_incremental_state', 'deltastore')()) }}
{%- endmacro %}

{% macro default__create_incremental_state() -%}
    create schema if not exists meta;
    create table if not exists {{ incremental_state_relation() }} (
        model varchar, loaded_through timestamp, rows_changed bigint, invocation_id varchar
    )
{%- endmacro %}

{% macro sqlserver__create_incremental_state() -%}
    if schema_id('meta') is null exec('create schema meta');
    if object_id('meta.dbt_incremental_state', 'U') is null
        create table meta.dbt_incremental_state (
            model varchar(200), loaded_through datetime2(6), rows_changed bigint,
            invocation_id varchar(64)
        )
{%- endmacro %}

{#- The newest change this model has taken in, as a SQL timestamp literal; none on a full
    build, or when no state was recorded (then every key counts as changed). -#}
{% macro incremental_since() -%}
    {%- if not execute or not is_incremental() -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set found = run_query("select loaded_through from " ~ incremental_state_relation()
                              ~ " where model = '" ~ this.identifier ~ "'") -%}
    {%- if found.rows | length == 0 or found.rows[0][0] is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set moment = found.rows[0][0] -%}
    {%- set text = moment.isoformat(sep=' ') if moment is not string else moment -%}
    {{ return("cast('" ~ text ~ "' as " ~ dbt.type_timestamp() ~ ")") }}
{%- endmacro %}

{#- Post-hook: the newest change among `sources` is now taken in. -#}
{% macro record_incremental_state(sources) -%}
    {%- set parts = [] -%}
    {%- for relation in sources -%}
        {%- do parts.append("select max(_loaded_at) as changed_at from " ~ relation) -%}
        {%- do parts.append("select max(_deleted_at) as changed_at from " ~ relation) -%}
    {%- endfor -%}
    {%- set newest = "(select max(changed_at) from (" ~ parts | join(" union all ")
                     ~ ") as changes)" -%}
    {%- set state = incremental_state_relation() -%}
    {{ forget_verification() }}
    update {{ state }} set loaded_through = {{ newest }} where model = '{{ this.identifier }}';
    insert into {{ state }} (model, loaded_through, rows_changed, invocation_id)
    select '{{ this.identifier }}', {{ newest }}, null, '{{ invocation_id }}'
    where not exists (select 1 from {{ state }} where model = '{{ this.identifier }}')
{%- endmacro %}

{#- The incremental strategy `delete_affected`: delete every key the changes affect (the
    model's `affected_keys` config names the macro that lists them), insert the rows the
    model now has for them. Unlike delete+insert, a key whose row is gone is deleted too. -#}
{% macro get_incremental_delete_affected_sql(arg_dict) -%}
    {%- set target_relation = arg_dict['target_relation'] -%}
    {%- set temp_relation = arg_dict['temp_relation'] -%}
    {%- set unique_key = arg_dict['unique_key'] -%}
    {%- set keys_macro = config.get('affected_keys') -%}
    {%- if not keys_macro or unique_key is not string -%}
        {{ exceptions.raise_compiler_error(
            "incremental_strategy 'delete_affected' needs a one-column unique_key and "
            ~ "affected_keys naming the macro that lists the affected keys") }}
    {%- endif -%}
    {#- Keys are listed and deleted as their text (key_text), which is exact for text and
        integers only: SQL Server's default text of a datetime or a float drops digits, and
        two keys would share one. -#}
    {%- for column in arg_dict['dest_columns']
            if column.name | lower == unique_key | lower
            and not (column.is_string() or column.is_integer()) -%}
        {{ exceptions.raise_compiler_error(
            "incremental_strategy 'delete_affected' deletes by the key's text, which is exact "
            ~ "for text and integer keys only: " ~ target_relation ~ "'s key `" ~ unique_key
            ~ "` is " ~ column.data_type ~ ". Key the model by a text or integer column, "
            ~ "e.g. generate_surrogate_key of the columns that make a row unique") }}
    {%- endfor -%}
    {%- set columns = get_quoted_csv(arg_dict['dest_columns'] | map(attribute='name')) -%}
    {%- set keys_sql = context[keys_macro](incremental_since()) -%}
    {%- set written = unverified_keys_relation() -%}
    {%- set this_run -%}
        model = '{{ target_relation.identifier }}' and invocation_id = '{{ invocation_id }}'
    {%- endset -%}
    {#- The keys are listed once, as text, for the delete and for the tests
        (macros/incremental/verification.sql); the new rows' keys join them. -#}
    insert into {{ written }} (model, key_text, invocation_id)
    select '{{ target_relation.identifier }}', {{ key_text(unique_key) }},
        '{{ invocation_id }}'
    from ({{ keys_sql }}) as affected_keys;
    delete from {{ target_relation }}
    where {{ key_text(unique_key) }} in (select key_text from {{ written }} where {{ this_run }});
    insert into {{ target_relation }} ({{ columns }})
    select {{ columns }} from {{ temp_relation }};
    insert into {{ written }} (model, key_text, invocation_id)
    select '{{ target_relation.identifier }}', {{ key_text('new_rows.' ~ unique_key) }},
        '{{ invocation_id }}'
    from {{ temp_relation }} as new_rows
    where not exists (select 1 from {{ written }} as listed where {{ this_run }}
                      and listed.key_text = {{ key_text('new_rows.' ~ unique_key) }});
    update {{ incremental_state_relation() }}
    set rows_changed = (select count(*) from {{ temp_relation }}),
        invocation_id = '{{ invocation_id }}'
    where model = '{{ target_relation.identifier }}'
{%- endmacro %}
