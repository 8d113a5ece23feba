"""The course's trained models, by name, with train-or-load.

Each function here is the training recipe of one notebook. Called in that
notebook, it trains the model (showing progress) and saves it under
``<checkpoint folder>/<name>.pt``. Called from a later notebook, it loads the
saved model, or trains it first if it is not there yet, so every notebook also
runs on its own. A recipe runs inside ``torch.random.fork_rng`` with its own
seed: it gives the same model wherever it is called and leaves the caller's
random numbers untouched.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from .data import mnist_tensors
from .gan import GanRun
from .settings import Settings
from .training import History
from .vae import VAE, ConvVAE, MlpVAE, fit_vae


def mnist_classifier(
    settings: Settings, device: torch.device | str = "cpu", *, progress_bar: bool = True
) -> tuple[nn.Module, History]:
    """The MNIST classifier of notebook 01, trained or loaded (name ``"mnist_classifier"``).

    The recipe is :func:`course_utils.classifier.classifier_recipe` (written in notebook 01):
    5 epochs on the whole training split; 2 epochs on at most 8,000 digits in smoke mode.

    Returns:
        The model in eval mode on ``device``, and its training :class:`History`
        (``history.epoch["test_acc"]`` holds the test accuracy after each epoch).
    """
    from .classifier import classifier_recipe, train_classifier

    return train_classifier(classifier_recipe(settings), settings, device, progress_bar=progress_bar)


# ---------------------------------------------------------------- notebook 04: variational autoencoders


def mlp_vae_config(settings: Settings) -> dict:
    """The recipe of :func:`mlp_vae`: pytorch/examples' ``vae/main.py``, for a fair comparison."""
    return {"recipe": "mlp_vae/1", "model": "MlpVAE", "latent_dim": 20, "hidden": 400,
            "epochs": settings.choose(full=10, smoke=3), "lr": 1e-3, "schedule": "constant",
            "batch_size": 128, "train_limit": settings.choose(full=None, smoke=8000),
            "train_eval": settings.choose(full=10_000, smoke=2_000)}


def vae_config(settings: Settings) -> dict:
    """The recipe of :func:`vae` (the convolutional VAE)."""
    return {"recipe": "vae/1", "model": "ConvVAE", "latent_dim": 32, "channels": (32, 64), "hidden": 256,
            "epochs": settings.choose(full=10, smoke=3), "lr": 3e-3, "schedule": "one-cycle",
            "batch_size": 128, "train_limit": settings.choose(full=None, smoke=8000),
            "train_eval": settings.choose(full=10_000, smoke=2_000)}


def train_vae_recipe(name: str, config: dict, settings: Settings, device: torch.device, *,
                     progress_bar: bool = True, seed: int = 0) -> tuple[VAE, History]:
    """Build the VAE of ``config``, train it with Adam (or load it) under ``name``.

    After every epoch :func:`~course_utils.vae.fit_vae` evaluates the -ELBO on the
    whole test split (``test_*``) and on the first ``config["train_eval"]``
    training digits (``train_*``), so that the history holds the train-test gap
    measured with the same weights and noise.
    """
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        if config["model"] == "MlpVAE":
            model = MlpVAE(latent_dim=config["latent_dim"], hidden=config["hidden"])
        else:
            model = ConvVAE(latent_dim=config["latent_dim"], channels=config["channels"],
                            hidden=config["hidden"])
        model = model.to(device)
        x_train = mnist_tensors(settings, train=True, limit=config["train_limit"])[0]
        x_test = mnist_tensors(settings, train=False)[0]
        loader = DataLoader(TensorDataset(x_train), batch_size=config["batch_size"], shuffle=True)
        optimizer = torch.optim.Adam(model.parameters(), lr=config["lr"])
        scheduler = None
        if config["schedule"] == "one-cycle":
            scheduler = torch.optim.lr_scheduler.OneCycleLR(
                optimizer, max_lr=config["lr"], total_steps=config["epochs"] * len(loader))
        history = fit_vae(model, loader, optimizer, epochs=config["epochs"], device=device,
                          eval_sets={"train": x_train[:config["train_eval"]], "test": x_test},
                          scheduler=scheduler, config=config, checkpoint=settings.checkpoint_path(name),
                          progress_bar=progress_bar)
    model.eval()
    return model, history


def mlp_vae(settings: Settings, device: torch.device, *, progress_bar: bool = True, seed: int = 0
            ) -> tuple[MlpVAE, History]:
    """The classic 784-400-20 VAE of notebook 04 (name ``"mlp_vae"``), trained or loaded.

    Recipe of pytorch/examples' ``vae/main.py``, so that its 105.6 test nats
    after 10 epochs are a fair reference: Bernoulli likelihood on continuous
    pixels, Adam at a constant 1e-3, batch 128, 10 epochs on the whole training
    split. Smoke mode: 3 epochs on at most 8,000 digits.

    Returns:
        The model in eval mode on ``device``, and its :class:`History`:
        ``history.epoch["test_nelbo"]`` and ``["train_nelbo"]`` are the test and
        training -ELBO after each epoch, in nats per image (training: the first
        10,000 training digits, 2,000 in smoke mode), with ``_recon`` and ``_kl`` parts.
    """
    return train_vae_recipe("mlp_vae", mlp_vae_config(settings), settings, device,
                            progress_bar=progress_bar, seed=seed)


def vae(settings: Settings, device: torch.device, *, progress_bar: bool = True, seed: int = 0
        ) -> tuple[ConvVAE, History]:
    """The convolutional VAE of notebook 04 (name ``"vae"``), trained or loaded; notebook 06 samples from it.

    Recipe: :class:`~course_utils.vae.ConvVAE` with 32 latent variables,
    Bernoulli likelihood on continuous pixels, Adam with a one-cycle learning
    rate up to 3e-3, batch 128, 10 epochs on the whole training split. Smoke
    mode: 3 epochs on at most 8,000 digits.

    Returns:
        The model in eval mode on ``device`` (``model.sample(n)`` draws digits in
        [0, 1]), and its :class:`History` with ``history.epoch["train_nelbo"]``
        and ``["test_nelbo"]`` per epoch, in nats per image, as in :func:`mlp_vae`.
    """
    return train_vae_recipe("vae", vae_config(settings), settings, device,
                            progress_bar=progress_bar, seed=seed)

# ---------------------------------------------------------------- notebooks 03 and 05: GANs


def dcgan(settings: Settings, device: torch.device | str = "cpu", *, progress_bar: bool = True) -> GanRun:
    """The DCGAN of notebook 03, trained or loaded (name ``"dcgan"``).

    The recipe is :func:`course_utils.gan.dcgan_recipe` and the run
    :func:`course_utils.gan.train_gan` (both written in notebook 03): width 32, latent
    size 64, DCGAN's N(0, 0.02) initialisation, two Adam optimisers (lr 2e-4, betas 0.5
    and 0.999), batch 64, the non-saturating generator loss, no tricks; 7 epochs on the
    whole training split in full mode (about 6,500 steps), 2 epochs on at most 8,000
    digits in smoke mode (250 steps).

    Returns:
        A :class:`~course_utils.gan.GanRun`: ``run.G`` and ``run.D`` in eval mode,
        ``run.history``, ``run.sample(n, seed)`` (images in [0, 1]), the generator after
        any epoch (``run.generator_at(epoch)``; epoch 0: the initial weights) and the
        fixed-noise samples of every epoch (``run.fixed_samples()``, in [0, 1]), which
        notebook 06 uses to follow the metrics over training.
    """
    from .gan import dcgan_recipe, train_gan

    config, epochs = dcgan_recipe(settings)
    return train_gan(settings, device, "dcgan", config, epochs=epochs, progress_bar=progress_bar)


def cgan(settings: Settings, device: torch.device | str = "cpu", *, progress_bar: bool = True) -> GanRun:
    """The conditional DCGAN of notebook 05, trained or loaded (name ``"cgan"``).

    The recipe is :func:`course_utils.cgan.cgan_recipe` (written in notebook 05), run by
    notebook 03's :func:`course_utils.gan.train_gan`: the DCGAN recipe of :func:`dcgan`
    with a generator that gets the one-hot digit concatenated to ``z``, a projection
    discriminator, and uniformly drawn labels for the fakes of each batch. 5 epochs on the
    whole training split in full mode, 2 epochs on at most 8,000 digits in smoke mode. The
    fixed latent batch has one row per digit (10 latents, the same in every row).

    Returns:
        A :class:`~course_utils.gan.GanRun` (see :func:`dcgan`); sample with
        ``run.sample(n, seed, labels=...)`` (images in [0, 1]) and get the generator after
        any epoch with ``run.generator_at(epoch)``.
    """
    from .cgan import cgan_recipe
    from .gan import train_gan

    config, epochs = cgan_recipe(settings)
    return train_gan(settings, device, "cgan", config, epochs=epochs, progress_bar=progress_bar)
