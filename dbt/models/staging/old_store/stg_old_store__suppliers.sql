with

source as (

    select * from {{ source('old_store', 'suppliers') }}

),

renamed as (

    select
        cast(supplier_id as bigint) as supplier_id,
        trim(contact_name) as contact_name,
        {{ first_word('contact_name') }} as contact_first_name,
        {{ after_first_word('contact_name') }} as contact_last_name,
        trim(phone_number) as phone_number,
        lower(trim(email)) as email,
        trim(address) as address,
        'old store' as source_store,
        _loaded_at

    from source

    where _deleted_at is null

)

select * from renamed
