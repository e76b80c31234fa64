"""Prefect flows: thin entry points over the ``houqin`` core."""
