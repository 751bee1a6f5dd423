"""Writes of the scoring app, split by concern: scores (re-scoring and stage moves), aggregates (events and intent
signals folded into per-lead aggregates), governance (versions and their approval), runs (resumable re-scoring)."""
