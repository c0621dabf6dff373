"""Everything about running dbt: the in-process runner, the build log in the warehouse, the
manifest reader, the docs site with its ERD, and the SLO report."""
