"""Measures of generated images, as layered pure functions (features -> statistics -> score).

The formulas are taught in notebook 06 and generated from its cells (``make export``):

* ``frechet``: FID: means and covariances, the trace of a matrix square root, the
  Fréchet distance (:func:`fid`).
* ``mmd``: KID: unbiased MMD² with a cubic polynomial kernel over subsets (:func:`kid`).
* ``isc``: the Inception(-style) Score from class probabilities (:func:`inception_score`).
* ``manifold``: precision and recall from k-NN balls, Kynkäänniemi et al. 2019
  (:func:`precision_recall`).
* ``memorisation``: the memorisation rate and the pairwise copying statistic
  (:func:`memorisation_check`).
* ``human``: a two-alternative forced-choice (real or generated?) test and its score,
  for people or for a program such as a discriminator (:func:`score_two_afc`).
* ``image_similarity``: SSIM for style transfer (:func:`ssim`).
* ``inception_input``: the FID Inception-v3's preprocessing: bytes, grey to RGB,
  TensorFlow 1's bilinear resize to 299 px, :math:`(x - 128)/128` (:func:`inception_input`).
* ``table``: one row of notebook 06's comparison table, every metric above for one set of
  samples (:func:`table_row`; notebook 09 adds its diffusion model with it).

Taught in notebook 03 and generated from it:

* ``confidence``: the classifier's mean confidence, the class histogram and its entropy
  (:func:`mean_confidence`, :func:`class_histogram`, :func:`entropy`).

Hand-written infrastructure:

* ``features``: images -> feature vectors with any network, in batches
  (:func:`extract_features`); the default feature space is the course classifier's 128-d
  penultimate layer.
* ``inception``: the FID Inception-v3 of the papers, loaded offline from a sha256-checked
  file (:func:`load_inception`, :class:`InceptionFeatures`, which prepares its input with
  ``inception_input``); ``inception_online``: the torch-fidelity alternative.
* ``classifier``: what the course's MNIST classifier says about generated digits: class
  probabilities (batched, in eval mode) and label accuracy (notebooks 03, 05 and 06); it
  re-exports notebook 03's confidence statistics.
* ``distances``: batched distances and nearest neighbours; ``results``: mean ± std;
  ``summary``: FID, KID, precision and recall in one call (:func:`distribution_metrics`).
"""

from . import (
    classifier,
    confidence,
    distances,
    features,
    frechet,
    human,
    image_similarity,
    inception,
    inception_input,
    isc,
    manifold,
    memorisation,
    mmd,
    results,
    summary,
    table,
)
from .classifier import class_probabilities, label_accuracy, per_class_accuracy
from .distances import nearest_neighbours
from .features import extract_features
from .frechet import SmallSampleWarning, feature_statistics, fid, frechet_distance
from .human import TwoAfcScore, TwoAfcTrials, make_two_afc_trials, score_two_afc
from .image_similarity import ssim, ssim_map
from .inception import InceptionFeatures, InceptionUnavailableError, load_inception
from .isc import inception_score
from .manifold import PrecisionRecall, precision_recall
from .memorisation import MemorisationResult, memorisation_check
from .mmd import kid
from .results import MeanStd
from .summary import distribution_metrics
from .table import table_row

__all__ = [
    # modules
    "classifier", "confidence", "distances", "features", "frechet", "human", "image_similarity", "inception",
    "inception_input", "isc", "manifold", "memorisation", "mmd", "results", "summary", "table",
    # the functions a notebook calls
    "extract_features", "feature_statistics", "frechet_distance", "fid", "kid", "precision_recall",
    "class_probabilities", "inception_score", "label_accuracy", "per_class_accuracy",
    "nearest_neighbours", "memorisation_check", "ssim", "ssim_map", "distribution_metrics",
    "load_inception", "make_two_afc_trials", "score_two_afc", "table_row",
    # result types, extractors and warnings
    "MeanStd", "PrecisionRecall", "MemorisationResult", "InceptionFeatures", "InceptionUnavailableError",
    "SmallSampleWarning", "TwoAfcTrials", "TwoAfcScore",
]
