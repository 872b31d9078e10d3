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
from ._segment_rfm import (
    RFMRule,
    RFMRuleSet,
    RFMScale,
    RuleSetReport,
    rfm_scores,
    rfm_segments,
    segment_summary,
)
from ._segment_tiers import FeatureScaler, cluster_profile, value_tiers

__all__ = [
    "FeatureScaler",
    "KMeans",
    "RFMRule",
    "RFMRuleSet",
    "RFMScale",
    "RuleSetReport",
    "SegmentationWarning",
    "calinski_harabasz_score",
    "choose_k",
    "cluster_profile",
    "davies_bouldin_score",
    "kmeans_plusplus",
    "rfm_scores",
    "rfm_segments",
    "segment_summary",
    "silhouette_samples",
    "silhouette_score",
    "value_tiers",
]
