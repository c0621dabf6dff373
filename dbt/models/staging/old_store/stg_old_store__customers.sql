with

source as (

    select * from {{ source('old_store', 'customers') }}

),

renamed as (

    select
        cast(customer_id as bigint) as customer_id,
        trim(first_name) as first_name,
        trim(last_name) as last_name,
        lower(trim(email)) as email,
        trim(phone_number) as phone_number,
        trim(address) as address,
        -- `929 Harbor Rd, Bay View, AK`: city is the second part from the end, state the last
        {{ address_part_from_end('address', 2) }} as city,
        case
            when {{ dbt.length(address_part_from_end('address', 1)) }} = 2
                then upper({{ address_part_from_end('address', 1) }})
        end as state_code,
        cast(created_at as {{ dbt.type_timestamp() }}) as created_at,
        cast(updated_at as {{ dbt.type_timestamp() }}) as updated_at,
        'old store' as source_store,
        _loaded_at

    from source

    where _deleted_at is null

)

select * from renamed
