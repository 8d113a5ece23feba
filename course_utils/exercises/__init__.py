"""Exercise checkers: they say whether an answer is right, and give a hint when it is not.

Each notebook's checkers live in a module named after its topic (``cnn`` for
notebook 01, ``vae`` for notebook 04, ...). A checker compares the learner's
answer with a reference on several inputs and either prints a short confirmation or raises
:class:`NotYet` with what was wrong and a hint. In the instructor notebooks the
solutions sit between ``### BEGIN SOLUTION`` and ``### END SOLUTION`` and every
checker passes; the tests check that each checker also rejects wrong answers.
"""

from __future__ import annotations

from . import cgan, cnn, diffusion, evaluation, fast_style, gan, style, translation, vae
from ._check import NotYet, fail, passed

__all__ = ["NotYet", "cgan", "cnn", "diffusion", "evaluation", "fail", "fast_style", "gan", "passed", "style",
           "translation", "vae"]
