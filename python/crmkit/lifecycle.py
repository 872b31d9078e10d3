"""Relationship lifecycle stages, migration, cohorts and early warning."""

__all__: list[str] = []
