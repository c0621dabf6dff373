{#- The date standing in for "today": var run_date (YYYY-MM-DD), else the runner's
    DELTASTORE_DBT_RUN_DATE, else the run's start date (UTC), so a rerun or a backfill gives
    the same numbers. The runner passes the date in the environment, not as a var: dbt
    parses the whole project again when a command-line var changes, and again the files that
    read an environment variable while being parsed when that one changes (dbt/parser/
    partial.py, build_env_vars_to_files). The variable is read only when SQL runs
    (`execute`): what parsing takes from a model (its refs, its config) never depends on the
    date, so a new day's date re-parses nothing. A unit test that sets the var gets its date
    from these two macros: `deltastore build --changed-only` knows them by name
    (transform/changed.py) and runs such a unit test again when its code changes, not each
    day. -#}
{% macro run_date_string() -%}
    {%- set value = var('run_date', '') | string | trim -%}
    {%- if value in ('', 'None') and execute -%}
        {%- set value = env_var('DELTASTORE_DBT_RUN_DATE', '') | trim -%}
    {%- endif -%}
    {%- if value in ('', 'None') -%}
        {{ return(run_started_at.strftime('%Y-%m-%d')) }}
    {%- endif -%}
    {%- if not modules.re.match('^[0-9]{4}-[0-9]{2}-[0-9]{2}$', value) -%}
        {{ exceptions.raise_compiler_error(
            "var `run_date` is `" ~ value ~ "`; pass a date as YYYY-MM-DD, e.g. "
            ~ "--vars '{run_date: 2025-01-31}'") }}
    {%- endif -%}
    {%- do modules.datetime.datetime.strptime(value, '%Y-%m-%d') -%}
    {{ return(value) }}
{%- endmacro %}

{% macro run_date() -%}
    cast('{{ deltastore.run_date_string() }}' as date)
{%- endmacro %}
