"""Customer lifetime value: BG/NBD, Modified BG/NBD and Gamma-Gamma models."""

__all__: list[str] = []
