{#- Fails for every combination of `columns` that appears more than once: the primary key
    of a model whose grain spans several columns. -#}
{% test unique_combination(model, columns) %}

select {{ columns | join(', ') }}, count(*) as occurrences
from {{ model }}
group by {{ columns | join(', ') }}
having count(*) > 1

{% endtest %}
