"""Transaction logs: reading, summarising per customer, calibration/holdout splits, simulation."""

__all__: list[str] = []
