with

source as (

    select * from {{ source('new_store', 'users') }}

),

renamed as (

    select
        cast(id as bigint) as customer_id,
        trim(first_name) as first_name,
        trim(last_name) as last_name,
        lower(trim(email)) as email,
        lower(trim(username)) as username,
        trim(phone) as phone_number,
        case
            when street is not null and street_number is not null
                then {{ dbt.concat(["cast(street_number as " ~ dbt.type_string() ~ ")", "' '", "trim(street)"]) }}
            else trim(street)
        end as address,
        trim(city) as city,
        trim(zipcode) as zipcode,
        'new store' as source_store,
        _loaded_at

    from source

    where _deleted_at is null

)

select * from renamed
