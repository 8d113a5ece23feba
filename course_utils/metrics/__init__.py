"""Measures of generated images, as layered pure functions (features -> statistics -> score).

Modules:

* ``classifier``: what the course's MNIST classifier says about generated digits:
  class probabilities, mean confidence, the class histogram and its entropy, label
  accuracy (notebooks 03, 05 and 06).
* ``memorisation``: nearest training neighbours of generated samples (notebooks 03 and 06).
"""

from . import classifier, memorisation

__all__ = ["classifier", "memorisation"]
