"""Segmentation: k-means, RFM scores and named segments, value tiers, cluster quality."""

from ._segment_common import SegmentationWarning
from ._segment_kmeans import KMeans, kmeans_plusplus

__all__ = [
    "KMeans",
    "SegmentationWarning",
    "kmeans_plusplus",
]
