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

from .gan import GanRun
from .settings import Settings
from .training import History


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


def mlp_vae(settings: Settings, device: torch.device | str = "cpu", *, progress_bar: bool = True
            ) -> tuple[nn.Module, History]:
    """The classic 784-400-20 VAE of notebook 04 (name ``"mlp_vae"``), trained or loaded.

    The recipe is :func:`course_utils.vae.mlp_vae_recipe` (written in notebook 04):
    pytorch/examples' ``vae/main.py``, so that its 105.6 test nats after 10 epochs
    are a fair reference: Bernoulli likelihood on continuous pixels, Adam at a
    constant 1e-3, batch 128, 10 epochs on the whole training split. Smoke mode:
    3 epochs on at most 8,000 digits.

    Returns:
        The model in eval mode on ``device`` (``model.sample(n)`` draws digits in
        [0, 1]), and its :class:`History`: ``history.epoch["test_nelbo"]`` and
        ``["train_nelbo"]`` are the test and training -ELBO after each epoch, in
        nats per image (training: the first 10,000 training digits, 2,000 in smoke
        mode), with ``_recon`` and ``_kl`` parts.
    """
    from .vae import mlp_vae_recipe, train_vae

    return train_vae(mlp_vae_recipe(settings), settings, device, name="mlp_vae", progress_bar=progress_bar)


def vae(settings: Settings, device: torch.device | str = "cpu", *, progress_bar: bool = True
        ) -> tuple[nn.Module, History]:
    """The convolutional VAE of notebook 04 (name ``"vae"``), trained or loaded; notebook 06 samples from it.

    The recipe is :func:`course_utils.vae.vae_recipe` (written in notebook 04): a
    ``ConvVAE`` with 32 latent variables, Bernoulli likelihood on continuous pixels,
    Adam with a one-cycle learning rate up to 3e-3, batch 128, 10 epochs on the
    whole training split. Smoke mode: 3 epochs on at most 8,000 digits.

    Returns:
        The model in eval mode on ``device`` (``model.sample(n)`` draws digits in
        [0, 1]), and its :class:`History` with ``history.epoch["train_nelbo"]``
        and ``["test_nelbo"]`` per epoch, in nats per image, as in :func:`mlp_vae`.
    """
    from .vae import train_vae, vae_recipe

    return train_vae(vae_recipe(settings), settings, device, name="vae", progress_bar=progress_bar)


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


# ---------------------------------------------------------------- notebook 07: fast style transfer


def johnson(settings: Settings, device: torch.device | str = "cpu", *, painting: str = "starry_night.jpg",
            progress_bar: bool = True):
    """Johnson et al.'s feed-forward network of notebook 07 for one painting, trained or loaded.

    The recipe is :func:`course_utils.fast_style.johnson_recipe` (written in notebook 07): a
    narrow image transformation network (16, 32, 64 channels, 3 residual blocks, instance
    norm, resize-convolution upsampling) trained with perceptual losses on 1,000 steps of
    2 crops of 128 px from :func:`course_utils.photos.training_photos`; smoke mode: 40
    steps of 64 px. The checkpoint is named after the painting and the photo set, e.g.
    ``johnson_starry_night_offline17``.

    Returns:
        A :class:`~course_utils.fast_style.FastStyleRun` (``run.net`` in eval mode,
        ``run.history``, ``run.config``); stylise with
        ``cu.fast_style.stylize(run.net, photo01)`` (any size, [0, 1]).
    """
    from .fast_style import checkpoint_name, johnson_recipe, train_fast_style
    from .photos import training_photos

    photos = training_photos(settings)
    config = johnson_recipe(settings, photos, painting)
    return train_fast_style(config, photos, settings, device, name=checkpoint_name("johnson", config),
                            progress_bar=progress_bar)


def multi_style(settings: Settings, device: torch.device | str = "cpu", *, progress_bar: bool = True):
    """Notebook 07's multi-style network (conditional instance norm), trained or loaded.

    The Starry Night, The Scream and The Shipwreck in one network (recipe
    :func:`course_utils.fast_style.multi_style_recipe`).

    Returns:
        A :class:`~course_utils.fast_style.FastStyleRun`; ``cu.fast_style.stylize(run.net, photo01,
        style=torch.tensor([1 - t, t, 0.0]))`` blends the first two paintings.
    """
    from .fast_style import checkpoint_name, multi_style_recipe, train_fast_style
    from .photos import training_photos

    photos = training_photos(settings)
    config = multi_style_recipe(settings, photos)
    return train_fast_style(config, photos, settings, device, name=checkpoint_name("multi", config),
                            progress_bar=progress_bar)


def adain(settings: Settings, device: torch.device | str = "cpu", *, progress_bar: bool = True):
    """Notebook 07's AdaIN network (Huang & Belongie), trained or loaded (name ``adain_<photo set>``).

    The frozen VGG-19 encoder and a decoder trained on The Starry Night, The Scream and three
    textures (recipe :func:`course_utils.fast_style.adain_recipe`).

    Returns:
        ``(model, history)``: an :class:`~course_utils.fast_style.AdaINNet` in eval mode; stylise
        any photo with any painting by ``cu.fast_style.stylize_adain(model, photo01, [painting01])``.
    """
    from .fast_style import adain_recipe, train_adain
    from .photos import training_photos

    photos = training_photos(settings)
    return train_adain(adain_recipe(settings, photos), photos, settings, device, name=f"adain_{photos.tag}",
                       progress_bar=progress_bar)


# ---------------------------------------------------------------- notebook 08: image-to-image translation


def pix2pix(settings: Settings, device: torch.device | str = "cpu", *, gan: bool = True,
            l1_weight: float = 10.0, progress_bar: bool = True):
    """Notebook 08's pix2pix colouriser (U-Net + PatchGAN), trained or loaded.

    The recipe is :func:`course_utils.translation.pix2pix_recipe` (written in notebook 08): grey ->
    colour on random crops of the photos of :func:`course_utils.translation.translation_domains`,
    L1 + GAN with ``l1_weight`` (lambda; the notebook trains 10 and the paper's 100) or, with
    ``gan=False``, L1 alone; 1,500 steps of 4 crops of 64 px; smoke mode: 30 steps of 32 px.

    Returns:
        A :class:`~course_utils.translation.TranslationRun`; colourise any photo with
        ``cu.translation.translate(run.nets["G"], photo01)`` ([0, 1] in and out).
    """
    from .translation import (
        fixed_inputs,
        pix2pix_recipe,
        run_name,
        train_translation,
        translation_domains,
    )

    domains = translation_domains(settings)
    config = pix2pix_recipe(settings, domains, gan=gan, l1_weight=l1_weight)
    fixed_x, fixed_y = fixed_inputs(settings, domains, config.crop)
    kind = f"pix2pix_gan{l1_weight:g}" if gan else "pix2pix_l1"
    return train_translation(config, domains, fixed_x, fixed_y, settings, device,
                             name=run_name(kind, config), progress_bar=progress_bar)


def cyclegan(settings: Settings, device: torch.device | str = "cpu", *, cycle: bool = True,
             progress_bar: bool = True):
    """Notebook 08's CycleGAN, photos <-> paintings, trained or loaded.

    The recipe is :func:`course_utils.translation.cyclegan_recipe` (written in notebook 08): two
    ResNet generators (width 16, 3 residual blocks), two 34 x 34 PatchGANs, least-squares losses,
    cycle and identity losses, a replay pool of 50 fakes; 3,000 steps of one 64 px crop per domain
    (smoke mode: 40 steps of 32 px) on :func:`course_utils.translation.translation_domains` (the
    CycleGAN authors' vangogh2photo when downloaded, else the offline photos and The Starry Night).
    ``cycle=False``: the ablation without cycle and identity losses.

    Returns:
        A :class:`~course_utils.translation.TranslationRun` with ``run.nets["G"]`` (photo -> painting)
        and ``run.nets["F"]`` (painting -> photo); apply them with ``cu.translation.translate``.
    """
    from .translation import (
        cyclegan_recipe,
        fixed_inputs,
        run_name,
        train_translation,
        translation_domains,
    )

    domains = translation_domains(settings)
    config = cyclegan_recipe(settings, domains, cycle=cycle)
    fixed_x, fixed_y = fixed_inputs(settings, domains, config.crop)
    return train_translation(config, domains, fixed_x, fixed_y, settings, device,
                             name=run_name("cyclegan" if cycle else "cyclegan_nocycle", config),
                             progress_bar=progress_bar)


# ---------------------------------------------------------------- notebook 09: diffusion models


def diffusion(settings: Settings, device: torch.device | str = "cpu", *, progress_bar: bool = True):
    """The class-conditional diffusion model of notebook 09, trained or loaded (name ``"diffusion"``).

    The recipe is :func:`course_utils.diffusion.diffusion_recipe` (written in notebook 09):
    a U-Net of widths (16, 32, 64) predicting the noise, cosine schedule with T = 1000,
    label dropout 0.1 for classifier-free guidance, AdamW with a one-cycle learning rate,
    an EMA of the weights, on the whole training split for 10 epochs in full mode; an
    (8, 16, 32) U-Net on at most 8,000 digits for 3 epochs in smoke mode.

    Returns:
        A :class:`~course_utils.diffusion.DiffusionRun`: ``run.model`` (the EMA model, eval
        mode), ``run.history``, ``run.schedule``, the fixed-noise grids of every epoch
        (``run.fixed_samples()``, in [0, 1]) and ``run.sample(n, seed, labels=..., w=...,
        steps=...)``, digits in [0, 1] drawn with DDIM (or ``sampler="ddpm"``).
    """
    from .diffusion import diffusion_recipe, train_diffusion

    return train_diffusion(diffusion_recipe(settings), settings, device, progress_bar=progress_bar)
