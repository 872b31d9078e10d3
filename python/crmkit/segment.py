"""Segmentation: k-means, RFM scores and named segments, value tiers, cluster quality."""

from ._segment_common import SegmentationWarning
from ._segment_kmeans import KMeans, kmeans_plusplus
from ._segment_quality import (
    calinski_harabasz_score,
    choose_k,
    davies_bouldin_score,
    silhouette_samples,
    silhouette_score,
)

__all__ = [
    "KMeans",
    "SegmentationWarning",
    "calinski_harabasz_score",
    "choose_k",
    "davies_bouldin_score",
    "kmeans_plusplus",
    "silhouette_samples",
    "silhouette_score",
]
