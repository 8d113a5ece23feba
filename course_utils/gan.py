r"""DCGAN and conditional DCGAN for 28x28 MNIST (introduced in notebooks 03 and 05).

The pieces, in the order the notebooks teach them:

* **Models**: :class:`Generator` (latent ``z`` -> image in (-1, 1), optionally
  conditioned on a digit label) and :class:`Discriminator` (image -> one logit,
  optionally conditioned with a projection term), with DCGAN's
  :func:`init_weights` (all weights drawn from N(0, 0.02)).
* **Losses** of the minimax game of Goodfellow et al. (2014),

  .. math:: \min_G \max_D V(D, G) = \mathbb{E}_x[\log D(x)] + \mathbb{E}_z[\log(1 - D(G(z)))],

  written with logits for numerical stability: :func:`discriminator_loss`, and
  :func:`generator_loss` in its saturating and non-saturating forms.
* **The training step** :func:`gan_step`: it returns the ``step`` function that
  the course's one training loop :func:`course_utils.training.train` calls per
  batch. One D update, then one G update; options for one-sided label smoothing,
  annealed instance noise, and separate learning rates (in :class:`GanConfig`).
* **A whole run** :func:`train_gan`: data, models, optimisers, the fixed latent
  batch, a snapshot of G and its fixed-noise samples after *every* epoch, and
  train-or-load / resume through ``course_utils.training.train``. It returns a
  :class:`GanRun`, from which later notebooks get G at any epoch
  (:meth:`GanRun.generator_at`) and the per-epoch sample grids
  (:meth:`GanRun.fixed_samples`).
* **The latent space**: :func:`lerp`, :func:`slerp`, :func:`interpolate`,
  attribute directions (:func:`attribute_direction`) and simple image
  attributes (:func:`ink`, :func:`slant`).

Pixel ranges: real and generated images are ``x11`` in [-1, 1] (the generator
ends in tanh); the classifier of notebook 01 takes [0, 1].
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from .checkpoints import FORMAT, CheckpointError, atomic_save, load_checkpoint, load_state
from .data import mnist_tensors
from .settings import Settings
from .training import History, train

# ---------------------------------------------------------------- models


class Generator(nn.Module):
    """DCGAN generator for 28x28 digits: a latent vector -> an image in (-1, 1).

    ``z`` (and, for a conditional GAN, the one-hot label) is treated as a 1x1 image
    with ``latent_dim (+ num_classes)`` channels and grown by strided transposed
    convolutions, 1x1 -> 7x7 -> 14x14 -> 28x28, with batch norm and ReLU between
    them (Radford et al., 2016, "DCGAN"). A last 3x3 convolution at full
    resolution turns the ``c`` feature maps into the image, and tanh puts its
    pixels in (-1, 1).

    Conditioning (notebook 05): the label enters as a one-hot vector concatenated
    to ``z``. The first layer's weights for those ``num_classes`` inputs are then
    a learned embedding of each digit.

    Args:
        latent_dim: size of ``z``.
        channels: width ``c``; the layers have ``4c``, ``2c`` and ``c`` channels.
        num_classes: 0 for an unconditional GAN, 10 for a digit-conditional one.
    """

    def __init__(self, latent_dim: int = 64, channels: int = 32, num_classes: int = 0):
        super().__init__()
        self.latent_dim, self.num_classes = latent_dim, num_classes
        c = channels
        self.net = nn.Sequential(
            # [B, nz, 1, 1] -> [B, 4c, 7, 7], nz = latent_dim (+ num_classes)
            nn.ConvTranspose2d(latent_dim + num_classes, 4 * c, 7, 1, 0, bias=False),
            nn.BatchNorm2d(4 * c),
            nn.ReLU(inplace=True),
            nn.ConvTranspose2d(4 * c, 2 * c, 4, 2, 1, bias=False),   # -> [B, 2c, 14, 14]
            nn.BatchNorm2d(2 * c),
            nn.ReLU(inplace=True),
            nn.ConvTranspose2d(2 * c, c, 4, 2, 1, bias=False),       # -> [B, c, 28, 28]
            nn.BatchNorm2d(c),
            nn.ReLU(inplace=True),
            nn.Conv2d(c, 1, 3, 1, 1),                                # -> [B, 1, 28, 28]
            nn.Tanh(),                                               # pixels in (-1, 1)
        )

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """Images ``x11`` ``[B, 1, 28, 28]`` in (-1, 1) from latents ``z`` ``[B, latent_dim]``.

        ``y`` ``[B]`` (int64 digit labels) is required for a conditional
        generator and refused for an unconditional one.
        """
        if z.dim() != 2 or z.shape[1] != self.latent_dim:
            raise ValueError(f"expected latents z of shape [B, {self.latent_dim}], got {tuple(z.shape)}")
        if not self.num_classes and y is not None:
            raise ValueError("this generator is unconditional (num_classes=0); do not pass labels y")
        h = z
        if self.num_classes:
            h = torch.cat([z, _one_hot(y, self.num_classes, len(z), "generator")], dim=1)
        return self.net(h[:, :, None, None])


class Discriminator(nn.Module):
    r"""DCGAN discriminator for 28x28 digits: an image -> one logit (real if large).

    Strided convolutions 28x28 -> 14x14 -> 7x7 -> 4x4 with LeakyReLU(0.2) (no batch
    norm on the first layer, as in DCGAN), then a linear read-out of the flattened
    features :math:`\phi(x)`: the logit is :math:`a(x) = w^\top \phi(x) + b` and
    :math:`D(x) = \sigma(a(x))`.

    Conditioning (notebook 05) is a **projection discriminator** (Miyato and
    Koyama, 2018): each digit ``y`` has a learned vector :math:`e_y` and
    :math:`a(x, y) = w^\top \phi(x) + b + e_y^\top \phi(x)`, so every digit gets its
    own linear read-out :math:`w + e_y` of shared features.

    Args:
        channels: width ``c``; the layers have ``c``, ``2c`` and ``4c`` channels.
        num_classes: 0 for an unconditional GAN, 10 for a digit-conditional one.
    """

    def __init__(self, channels: int = 32, num_classes: int = 0):
        super().__init__()
        self.num_classes = num_classes
        c = channels
        self.features = nn.Sequential(
            nn.Conv2d(1, c, 4, 2, 1),                    # [B, 1, 28, 28] -> [B, c, 14, 14]
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(c, 2 * c, 4, 2, 1, bias=False),    # -> [B, 2c, 7, 7]
            nn.BatchNorm2d(2 * c),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(2 * c, 4 * c, 3, 2, 1, bias=False),  # -> [B, 4c, 4, 4]
            nn.BatchNorm2d(4 * c),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Flatten(),                                # -> [B, 4c * 16] = phi(x)
        )
        self.head = nn.Linear(4 * c * 16, 1)             # w, b
        self.embed = nn.Embedding(num_classes, 4 * c * 16) if num_classes else None  # e_y

    def forward(self, x11: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """Logits ``[B]`` for images ``x11`` ``[B, 1, 28, 28]`` in [-1, 1] (and labels ``y`` ``[B]``)."""
        if x11.dim() != 4 or tuple(x11.shape[1:]) != (1, 28, 28):
            raise ValueError(f"the discriminator expects images [B, 1, 28, 28], got {tuple(x11.shape)}")
        phi = self.features(x11)
        logit = self.head(phi).squeeze(1)
        if self.embed is not None:
            _one_hot(y, self.num_classes, len(x11), "discriminator")  # validates y
            logit = logit + (self.embed(y) * phi).sum(dim=1)     # projection e_y . phi(x)
        elif y is not None:
            raise ValueError("this discriminator is unconditional (num_classes=0); do not pass labels y")
        return logit


def _one_hot(y: torch.Tensor | None, num_classes: int, batch: int, who: str) -> torch.Tensor:
    if y is None:
        raise ValueError(f"this {who} is conditional (num_classes={num_classes}): pass labels y [B]")
    if y.shape != (batch,) or y.dtype not in (torch.int64, torch.int32):
        raise ValueError(f"labels y must be an integer tensor of shape [{batch}], "
                         f"got {tuple(y.shape)} {y.dtype}")
    if len(y) and (int(y.min()) < 0 or int(y.max()) >= num_classes):
        raise ValueError(f"labels must lie in 0..{num_classes - 1}, got {int(y.min())}..{int(y.max())}")
    return F.one_hot(y.long(), num_classes).float()


def init_weights(module: nn.Module) -> None:
    """DCGAN initialisation (Radford et al., 2016): weights from N(0, 0.02), biases 0.

    Apply it with ``model.apply(init_weights)``. Convolutions, transposed
    convolutions, linear layers and embeddings get N(0, 0.02); batch-norm scales
    get N(1, 0.02) and shifts 0.
    """
    if isinstance(module, nn.Conv2d | nn.ConvTranspose2d | nn.Linear | nn.Embedding):
        nn.init.normal_(module.weight, 0.0, 0.02)
        if getattr(module, "bias", None) is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.BatchNorm2d):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)


# ---------------------------------------------------------------- losses


def discriminator_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor,
                       real_target: float = 1.0) -> torch.Tensor:
    r""":math:`\mathcal{L}_D = -\frac{1}{m}\sum_i [t \log D(x_i) + (1 - t)\log(1 - D(x_i))]
    - \frac{1}{m}\sum_i \log(1 - D(G(z_i)))`.

    With ``real_target`` :math:`t = 1` this is :math:`-V(D, G)` estimated on a
    batch; :math:`t = 0.9` is **one-sided label smoothing** (Salimans et al., 2016).
    Computed from logits with ``binary_cross_entropy_with_logits``, which never
    takes the log of 0.
    """
    if not 0.5 < real_target <= 1.0:
        raise ValueError(f"real_target must be in (0.5, 1], got {real_target}")
    real = F.binary_cross_entropy_with_logits(real_logits, torch.full_like(real_logits, real_target))
    fake = F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))
    return real + fake


def generator_loss(fake_logits: torch.Tensor, kind: str = "non_saturating") -> torch.Tensor:
    r"""The generator's loss on logits :math:`a = \mathrm{logit}\, D(G(z))`.

    * ``"saturating"``: :math:`\frac{1}{m}\sum_i \log(1 - D(G(z_i)))`, the minimax
      objective itself (G minimises it). Its gradient vanishes when D confidently
      rejects the fakes, i.e. at the start of training.
    * ``"non_saturating"``: :math:`-\frac{1}{m}\sum_i \log D(G(z_i))` (Goodfellow
      et al., 2014): the same fixed point, strong gradients when D(G(z)) is small.
    """
    if kind == "non_saturating":
        return F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits))
    if kind == "saturating":
        return -F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))
    raise ValueError(f"kind must be 'non_saturating' or 'saturating', got {kind!r}")


# ---------------------------------------------------------------- the training step


def optimizer_steps(optimizer: torch.optim.Optimizer) -> int:
    """How many updates an Adam(W) optimiser has made (restored with its state on resume)."""
    for state in optimizer.state.values():
        if "step" in state:
            return int(state["step"])
    return 0


def instance_noise_std(sigma0: float, steps_done: int, anneal_steps: int) -> float:
    r"""Instance noise that decays linearly: :math:`\sigma_t = \sigma_0 \max(0, 1 - t / T)`."""
    if anneal_steps <= 0:
        return sigma0
    return sigma0 * max(0.0, 1.0 - steps_done / anneal_steps)


def gan_step(
    G: Generator,
    D: Discriminator,
    opt_G: torch.optim.Optimizer,
    opt_D: torch.optim.Optimizer,
    device: torch.device,
    *,
    label_smoothing: float = 0.0,
    instance_noise: float = 0.0,
    noise_anneal_steps: int = 0,
    g_loss: str = "non_saturating",
) -> Callable[[Any], dict[str, float]]:
    r"""The ``step`` function of a GAN for :func:`course_utils.training.train`.

    For a batch of real images :math:`x` (``x11`` in [-1, 1], and their labels
    :math:`y` for a conditional GAN) one step does

    1. **D update**: draw :math:`z \sim \mathcal{N}(0, I)` (and random labels for a
       conditional GAN), make fakes :math:`G(z)`, and take one Adam step on
       :func:`discriminator_loss` (the fakes are detached: this step changes D only);
    2. **G update**: one Adam step on :func:`generator_loss` of D's verdict on the
       same fakes, through D, which is not changed.

    Args:
        label_smoothing: one-sided label smoothing; D's target for real images is
            ``1 - label_smoothing`` (0.1 is the usual value).
        instance_noise: :math:`\sigma_0` of Gaussian noise added to every image D
            sees, real and fake (Sønderby et al., 2017; Arjovsky and Bottou, 2017).
        noise_anneal_steps: the noise decays linearly to 0 over this many D
            updates (0: constant noise).
        g_loss: ``"non_saturating"`` (the default, used in practice) or ``"saturating"``.

    Returns:
        ``step(batch) -> {"loss_D", "loss_G", "D_x", "D_G_z"}``: both losses and the
        mean of :math:`D(x)` and of :math:`D(G(z))` (before the D update) over the batch.
    """
    conditional = G.num_classes > 0
    if conditional != (D.num_classes > 0):
        raise ValueError("G and D must both be conditional or both unconditional")
    if not 0 <= label_smoothing < 0.5:
        raise ValueError(f"label_smoothing must be in [0, 0.5), got {label_smoothing}")
    generator_loss(torch.zeros(1), g_loss)  # validates g_loss now, not at the first batch

    def noisy(x: torch.Tensor, sigma: float) -> torch.Tensor:
        return x + sigma * torch.randn_like(x) if sigma > 0 else x

    def step(batch) -> dict[str, float]:
        x_real = batch[0].to(device)
        b = len(x_real)
        y_real = batch[1].to(device) if conditional else None
        y_fake = torch.randint(0, G.num_classes, (b,), device=device) if conditional else None
        z = torch.randn(b, G.latent_dim, device=device)
        x_fake = G(z, y_fake)
        sigma = instance_noise_std(instance_noise, optimizer_steps(opt_D), noise_anneal_steps)

        # 1. D update: maximise log D(x) + log(1 - D(G(z))), i.e. minimise L_D
        real_logits = D(noisy(x_real, sigma), y_real)
        fake_logits = D(noisy(x_fake.detach(), sigma), y_fake)
        loss_D = discriminator_loss(real_logits, fake_logits, real_target=1.0 - label_smoothing)
        opt_D.zero_grad(set_to_none=True)
        loss_D.backward()
        opt_D.step()

        # 2. G update: minimise L_G (non-saturating: -log D(G(z))) through the updated D
        loss_G = generator_loss(D(noisy(x_fake, sigma), y_fake), g_loss)
        opt_G.zero_grad(set_to_none=True)
        loss_G.backward()
        opt_G.step()
        return {"loss_D": loss_D.item(), "loss_G": loss_G.item(),
                "D_x": torch.sigmoid(real_logits).mean().item(),
                "D_G_z": torch.sigmoid(fake_logits).mean().item()}

    return step


# ---------------------------------------------------------------- a whole run


@dataclass(frozen=True)
class GanConfig:
    """Everything that defines a GAN run except its number of epochs.

    The defaults are DCGAN's recipe (Adam, lr 2e-4, beta1 0.5, batch 64). A run's
    checkpoint stores the config; a checkpoint made with another config is refused.

    Attributes:
        recipe: a version tag, changed when the code of a recipe changes.
        latent_dim, g_channels, d_channels, num_classes: the models.
        lr_G, lr_D, beta1, beta2, batch_size: the two Adam optimisers and the batches.
        label_smoothing, instance_noise, noise_anneal_steps, g_loss: see :func:`gan_step`.
        train_limit: train on the first ``train_limit`` digits only (None: all).
        seed: seeds the initial weights, the data order and the fixed latents.
        n_fixed: the fixed latent batch (unconditional); conditional GANs use
            ``n_fixed_per_class`` latents, the same for each of the 10 digits.
        snapshots: keep G and its fixed-noise samples after every epoch.
    """

    recipe: str = "gan/1"
    latent_dim: int = 64
    g_channels: int = 32
    d_channels: int = 32
    num_classes: int = 0
    lr_G: float = 2e-4
    lr_D: float = 2e-4
    beta1: float = 0.5
    beta2: float = 0.999
    batch_size: int = 64
    label_smoothing: float = 0.0
    instance_noise: float = 0.0
    noise_anneal_steps: int = 0
    g_loss: str = "non_saturating"
    train_limit: int | None = None
    seed: int = 0
    n_fixed: int = 64
    n_fixed_per_class: int = 10
    snapshots: bool = True

    def __post_init__(self):
        if self.num_classes not in (0, 10):
            raise ValueError(f"num_classes must be 0 (unconditional) or 10 (MNIST digits), "
                             f"got {self.num_classes}")
        for name in ("latent_dim", "g_channels", "d_channels", "batch_size", "n_fixed", "n_fixed_per_class"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be a positive integer, got {getattr(self, name)}")
        if self.lr_G <= 0 or self.lr_D <= 0:
            raise ValueError("learning rates must be positive")

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def fixed_latents(config: GanConfig) -> tuple[torch.Tensor, torch.Tensor | None]:
    """The fixed latent batch of a run (from its own generator: no global random numbers).

    Returns:
        ``z`` ``[n, latent_dim]`` and, for a conditional GAN, labels ``y`` ``[n]``:
        digit ``d`` in row ``d`` of a 10-column grid, with the same ``n_fixed_per_class``
        latents in every row (a column shares its ``z``: one "handwriting").
    """
    gen = torch.Generator().manual_seed(10_000 + config.seed)
    if not config.num_classes:
        return torch.randn(config.n_fixed, config.latent_dim, generator=gen), None
    k = config.n_fixed_per_class
    z = torch.randn(k, config.latent_dim, generator=gen).repeat(config.num_classes, 1)
    y = torch.arange(config.num_classes).repeat_interleave(k)
    return z, y


def build_models(config: GanConfig, device: torch.device) -> tuple[Generator, Discriminator]:
    """A freshly initialised G and D for ``config`` (uses the global random generator)."""
    G = Generator(config.latent_dim, config.g_channels, config.num_classes).to(device)
    D = Discriminator(config.d_channels, config.num_classes).to(device)
    G.apply(init_weights)
    D.apply(init_weights)
    return G, D


def snapshot_folder(checkpoint: str | Path) -> Path:
    """Where a run keeps its per-epoch snapshots: ``<name>_epochs/`` next to ``<name>.pt``."""
    checkpoint = Path(checkpoint)
    return checkpoint.with_name(f"{checkpoint.stem}_epochs")


def snapshot_path(checkpoint: str | Path, epoch: int) -> Path:
    """The snapshot file of ``epoch`` (1, 2, ...): ``<name>_epochs/epoch_003.pt``."""
    return snapshot_folder(checkpoint) / f"epoch_{epoch:03d}.pt"


@torch.no_grad()
def generate(G: Generator, z: torch.Tensor, y: torch.Tensor | None = None,
             batch_size: int = 500) -> torch.Tensor:
    """``G(z, y)`` in eval mode, in batches, on the CPU: images ``[N, 1, 28, 28]`` in (-1, 1).

    G's mode (train or eval) is restored afterwards.
    """
    device = next(G.parameters()).device
    was_training = G.training
    G.eval()
    out = []
    for s in range(0, len(z), batch_size):
        yb = y[s:s + batch_size].to(device) if y is not None else None
        out.append(G(z[s:s + batch_size].to(device), yb).float().cpu())
    G.train(was_training)
    return torch.cat(out) if out else torch.empty(0, 1, 28, 28)


def sample_latents(n: int, latent_dim: int, seed: int) -> torch.Tensor:
    """``n`` latents from N(0, I) ``[n, latent_dim]`` drawn from a generator seeded with ``seed``."""
    return torch.randn(n, latent_dim, generator=torch.Generator().manual_seed(seed))


@dataclass
class GanRun:
    """A trained (or loaded) GAN and what its run recorded.

    Attributes:
        G, D: the models after the last epoch, in eval mode.
        history: per-step and per-epoch ``loss_D``, ``loss_G``, ``D_x``, ``D_G_z``
            (and ``time_s``, and ``fixed_std``: the per-pixel std of the fixed-noise
            samples across the batch).
        checkpoint: the run's checkpoint file; snapshots are in :func:`snapshot_folder`.
        config: the :class:`GanConfig`.
        fixed_z, fixed_y: the fixed latent batch (and labels) of the sample grids.
    """

    G: Generator
    D: Discriminator
    history: History
    checkpoint: Path
    config: GanConfig
    fixed_z: torch.Tensor
    fixed_y: torch.Tensor | None = field(default=None)

    @property
    def epochs(self) -> int:
        return self.history.epochs_done

    def snapshot_paths(self) -> list[Path]:
        """The per-epoch snapshot files, epoch 1 first (only epochs this run completed)."""
        if not self.config.snapshots:
            raise ValueError("this run was trained with snapshots=False: it kept no per-epoch generators")
        paths = [snapshot_path(self.checkpoint, e) for e in range(1, self.epochs + 1)]
        missing = [p.name for p in paths if not p.is_file()]
        if missing:
            raise CheckpointError(f"snapshots {', '.join(missing)} of {self.checkpoint.name} are missing "
                                  f"from {snapshot_folder(self.checkpoint)}. Delete {self.checkpoint} "
                                  "to retrain.")
        return paths

    def _snapshot(self, epoch: int) -> dict[str, Any]:
        if not 1 <= epoch <= self.epochs:
            raise ValueError(f"epoch must be between 1 and {self.epochs} for this run, got {epoch}")
        path = self.snapshot_paths()[epoch - 1]
        snap = load_checkpoint(path)
        if snap.get("config") != self.config.as_dict():
            raise CheckpointError(f"{path} was saved by a run with another config. Delete "
                                  f"{snapshot_folder(self.checkpoint)} and {self.checkpoint} to retrain.")
        return snap

    def generator_at(self, epoch: int, device: torch.device | str = "cpu") -> Generator:
        """A new generator, in eval mode on ``device``, with the weights G had after ``epoch``."""
        G = Generator(self.config.latent_dim, self.config.g_channels, self.config.num_classes)
        state = self._snapshot(epoch)["models"]["G"]
        load_state(G, state, "the generator", snapshot_path(self.checkpoint, epoch))
        return G.to(device).eval()

    def fixed_samples(self) -> torch.Tensor:
        """G's samples from the fixed latents after every epoch: ``[epochs, n, 1, 28, 28]`` in [-1, 1]."""
        grids = [self._snapshot(e)["samples"].float() / 127.5 - 1 for e in range(1, self.epochs + 1)]
        return torch.stack(grids)

    def sample(self, n: int, seed: int = 1, labels: torch.Tensor | None = None) -> torch.Tensor:
        """``n`` new samples ``[n, 1, 28, 28]`` in [-1, 1] from latents seeded with ``seed`` (on the CPU).

        A conditional GAN needs ``labels`` ``[n]``.
        """
        return generate(self.G, sample_latents(n, self.config.latent_dim, seed), labels)


def _to_bytes(x11: torch.Tensor) -> torch.Tensor:
    return ((x11.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)


def train_gan(
    settings: Settings,
    device: torch.device,
    name: str,
    config: GanConfig,
    *,
    epochs: int,
    progress_bar: bool = True,
) -> GanRun:
    """Train a (conditional) DCGAN on MNIST with the course's loop, or load / resume it.

    The run is saved as ``<checkpoint folder>/<name>.pt`` after every epoch (full
    resume: models, both optimisers, RNG states, history). With
    ``config.snapshots`` the generator's weights and its samples from the fixed
    latents are also saved after every epoch, in ``<name>_epochs/epoch_NNN.pt``
    (about 2 MB each); :class:`GanRun` reads them back. Runs inside
    ``torch.random.fork_rng`` seeded with ``config.seed``: the caller's random
    numbers are untouched.

    Args:
        settings: data folder and checkpoint folder.
        device: where to train.
        name: the checkpoint's name, e.g. ``"dcgan"``.
        config: the :class:`GanConfig`.
        epochs: total epochs (a finished run with fewer epochs is continued).
    """
    checkpoint = settings.checkpoint_path(name)
    fixed_z, fixed_y = fixed_latents(config)
    with torch.random.fork_rng():
        torch.manual_seed(config.seed)
        images, labels = mnist_tensors(settings, train=True, value_range=(-1, 1), limit=config.train_limit)
        loader = DataLoader(TensorDataset(images, labels), batch_size=config.batch_size, shuffle=True,
                            drop_last=True)
        G, D = build_models(config, device)
        opt_G = torch.optim.Adam(G.parameters(), lr=config.lr_G, betas=(config.beta1, config.beta2))
        opt_D = torch.optim.Adam(D.parameters(), lr=config.lr_D, betas=(config.beta1, config.beta2))
        step = gan_step(G, D, opt_G, opt_D, device, label_smoothing=config.label_smoothing,
                        instance_noise=config.instance_noise, noise_anneal_steps=config.noise_anneal_steps,
                        g_loss=config.g_loss)
        if not checkpoint.exists() and snapshot_folder(checkpoint).is_dir():
            for old in snapshot_folder(checkpoint).glob("epoch_*.pt"):  # left over from a deleted run
                old.unlink()

        def end_of_epoch(epoch: int) -> Mapping[str, float]:
            samples = generate(G, fixed_z, fixed_y)
            if config.snapshots:
                atomic_save({"format": FORMAT, "kind": "model", "config": config.as_dict(), "epoch": epoch,
                             "models": {"G": G.state_dict()}, "samples": _to_bytes(samples)},
                            snapshot_path(checkpoint, epoch))
            return {"fixed_std": per_pixel_std(samples)}

        history = train(step, loader, epochs=epochs, modules={"G": G, "D": D},
                        optimizers={"G": opt_G, "D": opt_D}, end_of_epoch=end_of_epoch,
                        checkpoint=checkpoint, config=config.as_dict(), desc=name, progress_bar=progress_bar)
    G.eval()
    D.eval()
    return GanRun(G, D, history, checkpoint, config, fixed_z, fixed_y)


def load_config(checkpoint: str | Path) -> GanConfig:
    """The :class:`GanConfig` a GAN checkpoint was trained with."""
    saved = load_checkpoint(checkpoint).get("config", {})
    known = {f.name for f in fields(GanConfig)}
    if not saved or set(saved) - known:
        raise CheckpointError(f"{checkpoint} is not a GAN run of this version of course_utils.")
    return GanConfig(**saved)


# ---------------------------------------------------------------- watching a run


def plot_training(history: History, smooth: int = 25, title: str | None = None) -> None:
    """Per-step losses and D's mean verdicts of a GAN run, in two panels, epochs marked.

    Args:
        history: a GAN run's history (``loss_D``, ``loss_G``, ``D_x``, ``D_G_z`` per step).
        smooth: running-mean window over steps.
    """
    import matplotlib.pyplot as plt

    from .plotting import plot_curves

    steps, epochs = history.step, max(history.epochs_done, 1)
    fig, axes = plt.subplots(1, 2, figsize=(12, 3.8))
    plot_curves({"loss_D": steps["loss_D"], "loss_G": steps["loss_G"]}, xlabel="step", ylabel="loss (nats)",
                smooth=smooth, ax=axes[0], title=f"losses (running mean of {smooth} steps)")
    plot_curves({"D(x)": steps["D_x"], "D(G(z))": steps["D_G_z"]}, xlabel="step", ylabel="mean D output",
                smooth=smooth, ax=axes[1], title="D's verdicts")
    per_epoch = len(steps["D_x"]) / epochs
    for ax in axes:
        for e in range(1, epochs):
            ax.axvline(e * per_epoch, color="grey", lw=0.5, alpha=0.5)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    plt.show()


def progress_strip(run: GanRun, columns: int = 16) -> torch.Tensor:
    """Fixed-noise samples after every epoch, as a batch for a grid of ``columns`` per epoch.

    Unconditional runs: the first ``columns`` fixed latents. Conditional runs: the
    first style of each digit (10 columns). Returns ``[epochs * columns, 1, 28, 28]``
    in [-1, 1]: row ``e`` of the grid is epoch ``e + 1``.
    """
    grids = run.fixed_samples()
    if run.fixed_y is not None:
        idx = (run.fixed_y[:, None] == torch.arange(run.config.num_classes)).float().argmax(0)
    else:
        idx = torch.arange(min(columns, grids.shape[1]))
    return grids[:, idx].flatten(0, 1)


def animate_grids(grids: torch.Tensor, nrow: int, interval_ms: int = 600, size: float = 3.6):
    """An animation (HTML for Jupyter) of grids ``[frames, n, 1, H, W]`` in [-1, 1], one frame each.

    Returns an ``IPython.display.HTML`` object; display it, or let it be a cell's result.
    """
    import matplotlib.pyplot as plt
    from IPython.display import HTML
    from matplotlib import animation
    from torchvision.utils import make_grid

    frames = [make_grid(((g + 1) / 2).clamp(0, 1), nrow=nrow, pad_value=1)[0] for g in grids]
    fig, ax = plt.subplots(figsize=(size, size * frames[0].shape[0] / frames[0].shape[1]))
    image = ax.imshow(frames[0], cmap="gray", vmin=0, vmax=1)
    ax.axis("off")

    def draw(i):
        image.set_data(frames[i])
        ax.set_title(f"epoch {i + 1}")
        return (image,)

    anim = animation.FuncAnimation(fig, draw, frames=len(frames), interval=interval_ms)
    html = HTML(anim.to_jshtml())
    plt.close(fig)
    return html


# ---------------------------------------------------------------- the latent space


def lerp(z0: torch.Tensor, z1: torch.Tensor, t: torch.Tensor | float) -> torch.Tensor:
    r"""Linear interpolation :math:`z(t) = (1 - t)\, z_0 + t\, z_1`.

    ``z0``, ``z1``: ``[D]``; ``t``: a number or ``[T]``. Returns ``[D]`` or ``[T, D]``.
    """
    t = torch.as_tensor(t, dtype=z0.dtype, device=z0.device)
    tt = t[:, None] if t.dim() == 1 else t
    return (1 - tt) * z0 + tt * z1


def slerp(z0: torch.Tensor, z1: torch.Tensor, t: torch.Tensor | float) -> torch.Tensor:
    r"""Spherical interpolation (Shoemake, 1985; White, 2016, for GAN latents).

    .. math:: z(t) = \frac{\sin((1 - t)\Omega)}{\sin \Omega} z_0 + \frac{\sin(t \Omega)}{\sin \Omega} z_1,
              \qquad \cos \Omega = \frac{z_0 \cdot z_1}{\lVert z_0 \rVert \lVert z_1 \rVert}.

    It follows the great circle between the two directions, so the norm stays
    near :math:`\sqrt{D}`, where Gaussian latents live, instead of dipping in the
    middle as with :func:`lerp`. Falls back to :func:`lerp` for (anti)parallel
    latents, where :math:`\sin\Omega \approx 0`.

    ``z0``, ``z1``: ``[D]``; ``t``: a number or ``[T]``. Returns ``[D]`` or ``[T, D]``.
    """
    if z0.shape != z1.shape or z0.dim() != 1:
        raise ValueError(f"z0 and z1 must be vectors of the same length, "
                         f"got {tuple(z0.shape)}, {tuple(z1.shape)}")
    t = torch.as_tensor(t, dtype=z0.dtype, device=z0.device)
    cos = torch.dot(z0, z1) / (z0.norm() * z1.norm()).clamp_min(1e-12)
    omega = torch.arccos(cos.clamp(-1, 1))
    if torch.sin(omega).abs() < 1e-6:
        return lerp(z0, z1, t)
    tt = t[:, None] if t.dim() == 1 else t
    return (torch.sin((1 - tt) * omega) * z0 + torch.sin(tt * omega) * z1) / torch.sin(omega)


def interpolate(z0: torch.Tensor, z1: torch.Tensor, steps: int, method: str = "slerp") -> torch.Tensor:
    """``steps`` latents ``[steps, D]`` from ``z0`` to ``z1`` (both ends included), by lerp or slerp."""
    if steps < 2:
        raise ValueError(f"steps must be at least 2 (the two ends), got {steps}")
    fn = {"lerp": lerp, "slerp": slerp}.get(method)
    if fn is None:
        raise ValueError(f"method must be 'lerp' or 'slerp', got {method!r}")
    return fn(z0, z1, torch.linspace(0, 1, steps, dtype=z0.dtype))


def ink(x11: torch.Tensor) -> torch.Tensor:
    """How much ink each digit has: its mean pixel value in [0, 1], ``[N]``.

    ``x11``: images ``[N, 1, H, W]`` in [-1, 1].
    """
    return ((x11 + 1) / 2).clamp(0, 1).mean(dim=(1, 2, 3))


def slant(x11: torch.Tensor) -> torch.Tensor:
    r"""Slant of each digit from its image moments, per image ``[N]``.

    With ink :math:`w = (x + 1)/2` as weights and centred pixel coordinates
    :math:`u` (right) and :math:`v` (up), the slant is the regression slope of
    :math:`u` on :math:`v`, :math:`\mathrm{cov}(u, v) / \mathrm{var}(v)`: positive
    when the digit leans to the right (as in italics), 0 for an upright digit.
    """
    w = ((x11 + 1) / 2).clamp(0, 1)[:, 0]                       # [N, H, W]
    h, wd = w.shape[1:]
    v = -torch.arange(h, dtype=w.dtype, device=w.device)[:, None].expand(h, wd)  # up is positive
    u = torch.arange(wd, dtype=w.dtype, device=w.device)[None, :].expand(h, wd)
    mass = w.sum(dim=(1, 2)).clamp_min(1e-8)
    mu_u = (w * u).sum(dim=(1, 2)) / mass
    mu_v = (w * v).sum(dim=(1, 2)) / mass
    cov = (w * (u - mu_u[:, None, None]) * (v - mu_v[:, None, None])).sum(dim=(1, 2)) / mass
    var_v = (w * (v - mu_v[:, None, None]) ** 2).sum(dim=(1, 2)) / mass
    return cov / var_v.clamp_min(1e-8)


def attribute_direction(z: torch.Tensor, scores: torch.Tensor, fraction: float = 0.1,
                        groups: torch.Tensor | None = None) -> torch.Tensor:
    r"""A latent direction for an attribute: mean latent of the top minus the bottom ``fraction``.

    As in the latent arithmetic of Radford et al. (2016), averaging many latents
    cancels what the samples do not share. With ``groups`` (e.g. the digit each
    sample shows) the difference is taken within each group and averaged over the
    groups, so that the direction is not simply "towards the digits that have
    more of the attribute".

    Args:
        z: latents ``[N, D]``.
        scores: the attribute of each ``G(z)``, ``[N]`` (e.g. :func:`ink`).
        fraction: share of the latents at each end.
        groups: optional integer group of each latent, ``[N]``; groups with fewer
            than ``2 / fraction`` members are skipped.

    Returns:
        ``[D]``: :math:`\bar z_{\text{top}} - \bar z_{\text{bottom}}` (averaged over groups).
    """
    if z.dim() != 2 or scores.shape != z.shape[:1]:
        raise ValueError(f"need latents [N, D] and one score per latent, "
                         f"got {tuple(z.shape)}, {tuple(scores.shape)}")
    if groups is not None:
        if groups.shape != scores.shape:
            raise ValueError(f"need one group per latent, got {tuple(groups.shape)} for {len(z)} latents")
        parts = [attribute_direction(z[groups == g], scores[groups == g], fraction)
                 for g in groups.unique() if (groups == g).sum() * fraction >= 1]
        if not parts:
            raise ValueError(f"no group has enough latents for fraction {fraction}")
        return torch.stack(parts).mean(dim=0)
    k = int(fraction * len(z))
    if not 1 <= k <= len(z) // 2:
        raise ValueError(f"fraction {fraction} of {len(z)} latents must select between 1 and half of them")
    order = scores.argsort()
    return z[order[-k:]].mean(dim=0) - z[order[:k]].mean(dim=0)


def move_along(z: torch.Tensor, directions: Mapping[str, torch.Tensor],
               amounts: Mapping[str, float]) -> torch.Tensor:
    r"""Latents moved along named directions, :math:`z + \sum_k a_k \, d_k`.

    ``z``: ``[..., D]``; ``directions[k]``: ``[D]``; ``amounts[k]``: the step :math:`a_k`.
    """
    unknown = set(amounts) - set(directions)
    if unknown:
        raise KeyError(f"no direction named {', '.join(sorted(unknown))}; known: {', '.join(directions)}")
    out = z.clone()
    for k, a in amounts.items():
        out = out + a * directions[k].to(z)
    return out


def per_pixel_std(x: torch.Tensor) -> float:
    """Variety of a batch ``[N, 1, H, W]``: the std across the batch of each pixel, averaged over pixels.

    0 when every image is the same (complete mode collapse).
    """
    if x.dim() != 4 or len(x) < 2:
        raise ValueError(f"need a batch of at least 2 images [N, C, H, W], got {tuple(x.shape)}")
    return x.std(dim=0).mean().item()
