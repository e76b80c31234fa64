"""Houqin (后勤): a school logistics department's seasonal plans as running work.

The core package: ledger models and queries, plan templates, due-date rules, CLI.
It imports no Prefect; ``flows/`` and ``tasks/`` wrap it.
"""

__version__ = "0.1.0"
