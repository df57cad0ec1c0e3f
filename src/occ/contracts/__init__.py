"""Data contracts: upstream payloads, the normalized records occ stores, KPI config and results.

Nothing here imports anything else of occ.
"""
