"""Measures of generated images, as layered pure functions (features -> statistics -> score).

Modules (each states its formula and cites its paper):

* ``features``: images -> feature vectors with any network; the default feature space
  is the course classifier's 128-d penultimate layer (:func:`extract_features`).
* ``frechet``: FID: means and covariances, then the Fréchet distance (:func:`fid`).
* ``mmd``: KID: unbiased MMD² with a cubic polynomial kernel over subsets (:func:`kid`).
* ``manifold``: precision and recall from k-NN balls, Kynkäänniemi et al. 2019
  (:func:`precision_recall`).
* ``classifier``: what the course's MNIST classifier says about generated digits:
  class probabilities, confidence, class histogram, label accuracy (also per class),
  and the Inception-style score (:func:`inception_score`) (notebooks 03, 05 and 06).
* ``memorisation``: nearest training neighbours and the memorisation rate
  (:func:`memorisation_check`) (notebooks 03 and 06).
* ``image_similarity``: SSIM for style transfer (:func:`ssim`).
* ``human``: a two-alternative forced-choice (real or generated?) test and its score,
  for people or for a program such as a discriminator (:func:`score_two_afc`) (notebook 06).
* ``summary``: FID, KID, precision and recall in one call (:func:`distribution_metrics`).
* ``inception``: optional Inception-v3 FID/KID when torch-fidelity and its weights are
  available (:func:`inception_metrics`); offline it says so and computes nothing.
* ``distances``, ``results``: shared helpers (batched distances, mean ± std results).
"""

from . import (
    classifier,
    distances,
    features,
    frechet,
    human,
    image_similarity,
    inception,
    manifold,
    memorisation,
    mmd,
    results,
    summary,
)
from .classifier import class_probabilities, inception_score, label_accuracy, per_class_accuracy
from .features import extract_features
from .frechet import SmallSampleWarning, feature_statistics, fid, frechet_distance
from .human import TwoAfcScore, TwoAfcTrials, make_two_afc_trials, score_two_afc
from .image_similarity import ssim, ssim_map
from .inception import InceptionMetrics, inception_metrics
from .manifold import PrecisionRecall, precision_recall
from .memorisation import MemorisationResult, memorisation_check, nearest_neighbours
from .mmd import kid
from .results import MeanStd
from .summary import distribution_metrics

__all__ = [
    # modules
    "classifier", "distances", "features", "frechet", "human", "image_similarity", "inception", "manifold",
    "memorisation", "mmd", "results", "summary",
    # the functions a notebook calls
    "extract_features", "feature_statistics", "frechet_distance", "fid", "kid", "precision_recall",
    "class_probabilities", "inception_score", "label_accuracy", "per_class_accuracy",
    "nearest_neighbours", "memorisation_check", "ssim", "ssim_map", "distribution_metrics",
    "inception_metrics", "make_two_afc_trials", "score_two_afc",
    # result types and warnings
    "MeanStd", "PrecisionRecall", "MemorisationResult", "InceptionMetrics", "SmallSampleWarning",
    "TwoAfcTrials", "TwoAfcScore",
]
