-- The original project joined reviews on bare ids and duplicated them: exactly one row
-- per staged review, no more and no less.
with

reviews as (

    select * from {{ ref('stg_old_store__reviews') }}

),

review_facts as (

    select * from {{ ref('fct_reviews') }}

),

counts as (

    select
        (select count(*) from reviews) as staged_reviews,
        (select count(*) from review_facts) as fact_rows

)

select * from counts
where staged_reviews <> fact_rows
