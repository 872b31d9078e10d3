"""Satisfaction and loyalty: NPS, CSAT and CES with confidence intervals."""

__all__: list[str] = []
