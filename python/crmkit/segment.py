"""Segmentation: k-means, RFM scores and named segments, value tiers, cluster quality."""

__all__: list[str] = []
