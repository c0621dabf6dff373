{#- Data tests of the incremental models check the rows that changed, not the whole table.

    An incremental model (macros/incremental/state.sql) rewrites only the keys that raw
    changes affect; its other rows are the ones its tests passed on before. So once a
    model's whole table has passed its tests, a row-by-row test (unique, not_null,
    accepted_values, relationships, valid_date_range) needs to look only at the keys
    written since:
    - `meta.dbt_unverified_keys`: each key an incremental run deleted or inserted, as text,
      until a build in which every test that reads the model passes
      (`deltastore build` then forgets them, transform/build_log.py);
    - `meta.dbt_verified_models`: models whose whole table passed every such test, with
      the hash of the project files and vars it passed under (transform/verification.py,
      in DELTASTORE_DBT_PROJECT_HASH) and when their tests last read the whole table
      (`whole_at`: the daily build reads it whole again after
      DELTASTORE_VERIFY_WHOLE_TABLES_DAYS). A full build of the model
      (first build, --full-refresh) removes the row in the model's own transaction, and a
      change to the project files makes the row stale: either way the next tests read the
      whole table.
    The assumption is the one the incremental models already make: only the build writes
    their tables. `deltastore build --verify-whole-tables` tests every table whole. -#}

{% macro unverified_keys_relation() -%}
    {{ return(api.Relation.create(database=target.database, schema='meta',
                                  identifier='dbt_unverified_keys')) }}
{%- endmacro %}

{% macro verified_models_relation() -%}
    {{ return(api.Relation.create(database=target.database, schema='meta',
                                  identifier='dbt_verified_models')) }}
{%- endmacro %}

{#- on-run-start: both tables, made once (after the incremental state, which makes `meta`). -#}
{% macro create_verification_state() -%}
    {{ return(adapter.dispatch('create_verification_state', 'deltastore')()) }}
{%- endmacro %}

{% macro default__create_verification_state() -%}
    create table if not exists {{ unverified_keys_relation() }} (
        model varchar, key_text varchar, invocation_id varchar
    );
    create table if not exists {{ verified_models_relation() }} (
        model varchar, project_hash varchar, invocation_id varchar, verified_at timestamp,
        whole_at timestamp
    )
{%- endmacro %}

{% macro sqlserver__create_verification_state() -%}
    if object_id('meta.dbt_unverified_keys', 'U') is null
        create table meta.dbt_unverified_keys (
            model varchar(200), key_text nvarchar(max), invocation_id varchar(64)
        );
    if object_id('meta.dbt_verified_models', 'U') is null
        create table meta.dbt_verified_models (
            model varchar(200), project_hash varchar(64), invocation_id varchar(64),
            verified_at datetime2(6), whole_at datetime2(6)
        )
{%- endmacro %}

{#- A key as the text `meta.dbt_unverified_keys` holds, whole: the strategy deletes the rows
    whose key has a listed text, so two keys must never share one (the strategy takes text
    and integer keys only: a datetime's default text on SQL Server drops the seconds). -#}
{% macro key_text(column) -%}
    {{ return(adapter.dispatch('key_text', 'deltastore')(column)) }}
{%- endmacro %}

{% macro default__key_text(column) -%}
    cast({{ column }} as varchar)
{%- endmacro %}

{% macro sqlserver__key_text(column) -%}
    cast({{ column }} as nvarchar(max))
{%- endmacro %}

{#- The keys of a model written since its tests last passed (this run's and earlier). -#}
{% macro keys_written_since(model) -%}
    select key_text from {{ unverified_keys_relation() }} where model = '{{ model }}'
{%- endmacro %}

{#- Part of the post-hook: after a full build (this invocation ran no incremental strategy
    for the model, macros/incremental/state.sql) its whole table is unverified again. -#}
{% macro forget_verification() -%}
    {%- set built_in_full -%}
        not exists (select 1 from {{ incremental_state_relation() }}
                    where model = '{{ this.identifier }}' and invocation_id = '{{ invocation_id }}')
    {%- endset -%}
    delete from {{ verified_models_relation() }}
    where model = '{{ this.identifier }}' and {{ built_in_full }};
    delete from {{ unverified_keys_relation() }}
    where model = '{{ this.identifier }}' and {{ built_in_full }};
{%- endmacro %}

{#- Tests whose failing rows each depend on one row (or, for unique, on the rows sharing
    its value): for those, looking at the rows written since is enough. -#}
{% macro row_by_row_tests() -%}
    {{ return(['unique', 'not_null', 'accepted_values', 'relationships', 'valid_date_range']) }}
{%- endmacro %}

{#- The graph node of an incremental model built by `delete_affected`, or none. -#}
{% macro delete_affected_node(unique_id) -%}
    {%- set node = graph.nodes.get(unique_id) if unique_id else none -%}
    {%- if node is none or node.resource_type != 'model'
          or node.config.get('incremental_strategy') != 'delete_affected'
          or node.config.get('unique_key') is not string -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return(node) }}
{%- endmacro %}

{#- The condition that narrows this test to the rows written since its model was verified,
    or none when the test must read the whole table. Called while a generic test compiles
    (`model` is the test node). -#}
{% macro changed_rows_condition(relation) -%}
    {%- if not execute or env_var('DELTASTORE_DBT_VERIFY_WHOLE_TABLES', '') -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set project_hash = env_var('DELTASTORE_DBT_PROJECT_HASH', '') -%}
    {%- set test = model.test_metadata -%}
    {%- if not project_hash or not test or test.namespace
          or test.name not in row_by_row_tests() -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set kind, kwargs = test.name, test.kwargs or {} -%}
    {%- set tested = delete_affected_node(model.attached_node) -%}
    {%- if tested is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set key = tested.config.unique_key -%}
    {%- set column = kwargs.get('column_name') -%}
    {%- set models = [tested] -%}
    {#- a row with no key is never one of the listed keys: it is always read -#}
    {%- set written = key ~ " is null or " ~ key_text(key) ~ " in ("
                      ~ keys_written_since(tested.alias) ~ ")" -%}
    {%- if kind == 'unique' and column != key -%}
        {#- a value shared with an unchanged row counts too -#}
        {%- set written = column ~ " in (select " ~ column ~ " from " ~ relation
                          ~ " where " ~ written ~ ")" -%}
    {%- endif -%}
    {%- set conditions = [written] -%}
    {%- if kind == 'relationships' -%}
        {#- a parent row deleted or rewritten is checked against its children -#}
        {%- set parents = model.depends_on.nodes | reject('equalto', tested.unique_id) | list -%}
        {%- set parent = delete_affected_node(parents[0] if parents | length == 1 else none) -%}
        {%- if parent is none or kwargs.get('field') != parent.config.unique_key -%}
            {{ return(none) }}
        {%- endif -%}
        {%- do models.append(parent) -%}
        {%- do conditions.append(key_text(column) ~ " in ("
                                 ~ keys_written_since(parent.alias) ~ ")") -%}
    {%- endif -%}
    {%- set names = models | map(attribute='alias') | unique | list -%}
    {%- set found = run_query(
        "select count(distinct model) from " ~ verified_models_relation()
        ~ " where project_hash = '" ~ project_hash ~ "' and model in ('"
        ~ names | join("', '") ~ "')") -%}
    {%- if found.rows | length == 0 or found.rows[0][0] != names | length -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return("(" ~ conditions | join(" or ") ~ ")") }}
{%- endmacro %}

{#- dbt wraps the `model` argument of every generic test in this macro (dbt-core
    parser/generic_test_builders.py); its own version applies the test's `where` config.
    This one applies it too, with the changed rows' condition above. -#}
{% macro get_where_subquery(relation) -%}
    {%- set conditions = [] -%}
    {%- set where = config.get('where') -%}
    {%- if where -%}
        {%- do conditions.append("(" ~ where ~ ")") -%}
    {%- endif -%}
    {%- set changed = changed_rows_condition(relation) -%}
    {%- if changed -%}
        {%- do conditions.append(changed) -%}
    {%- endif -%}
    {%- if not conditions -%}
        {{ return(relation) }}
    {%- endif -%}
    {{ return("(select * from " ~ relation ~ " where " ~ conditions | join(" and ")
              ~ ") dbt_subquery") }}
{%- endmacro %}

{#- dbt's relationships test (dbt-core macros/generic_test_sql/relationships.sql: the child's
    values with no parent), with one difference: when the child rows are narrowed (to the
    changed rows above, or by a `where`), only the parents they name are read. A few
    thousand changed order lines then no longer hash all the orders. -#}
{% macro default__test_relationships(model, column_name, to, field) %}

with child as (
    select {{ column_name }} as from_field
    from {{ model }}
    where {{ column_name }} is not null
),

parent as (
    select {{ field }} as to_field
    from {{ to }}
    {%- if model is string %}
    where {{ field }} in (select from_field from child)
    {%- endif %}
)

select from_field
from child
left join parent
    on child.from_field = parent.to_field
where parent.to_field is null

{% endmacro %}
