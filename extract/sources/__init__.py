"""Sources the extract reads: the store API (``store_api``) and the legacy DB (``legacy_db``)."""
