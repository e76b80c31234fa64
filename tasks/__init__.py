"""Prefect tasks the flows compose: each one logical, batched step, never one per item."""
