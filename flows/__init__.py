"""Prefect flows: thin entry points over the ``houqin`` core.

Importing this package sets Prefect's environment first (no telemetry, Prefect's home beside
the ledger's data) for whoever runs a flow: the CLI, ``python -m flows.serve``, a worker.
"""

from houqin.prefect_env import quiet_defaults
from houqin.settings import get_settings

quiet_defaults(get_settings())
