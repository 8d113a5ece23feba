"""Notebook 09's diffusion code (course_utils.diffusion) against references written from the equations."""

import dataclasses
import math

import pytest
import torch

import course_utils as cu
from course_utils import diffusion as d

# ---------------------------------------------------------------- schedules and the forward process


def test_schedules_follow_their_definitions():
    lin = d.linear_schedule(1000)
    torch.testing.assert_close(lin.betas[[1, 1000]], torch.tensor([1e-4, 0.02], dtype=torch.float64))
    assert lin.betas[0] == 0 and lin.alpha_bars[0] == 1 and lin.T == 1000
    torch.testing.assert_close(lin.alpha_bars[1:], torch.cumprod(1 - lin.betas[1:], 0))
    cos = d.cosine_schedule(1000)
    t = torch.arange(1001, dtype=torch.float64)
    f = torch.cos((t / 1000 + 0.008) / 1.008 * math.pi / 2) ** 2
    # below the 0.999 cap on beta, alpha_bar is exactly f(t) / f(0)
    torch.testing.assert_close(cos.alpha_bars[:990], (f / f[0])[:990])
    assert cos.betas.max() <= 0.999 and (cos.alpha_bars[1:] < cos.alpha_bars[:-1]).all()


@pytest.mark.parametrize("betas, match", [
    (torch.tensor([0.1, 1.2]), "in \\(0, 1\\)"), (torch.tensor([0.0, 0.1]), "in \\(0, 1\\)"),
    (torch.ones(2, 2) * 0.1, "1-D"), (torch.tensor([0.1]), "T >= 2"),
])
def test_bad_betas_are_refused(betas, match):
    with pytest.raises(ValueError, match=match):
        d.NoiseSchedule(betas)


def test_make_schedule_names():
    assert d.make_schedule("cosine", 10).T == 10
    with pytest.raises(ValueError, match="'linear' or 'cosine'"):
        d.make_schedule("sigmoid")


def test_q_sample_has_the_marginal_of_the_step_by_step_chain():
    """Jumping to x_t in one draw gives the distribution of t single steps q(x_t | x_{t-1})."""
    s = d.linear_schedule(50, 1e-3, 0.2)
    gen = torch.Generator().manual_seed(0)
    x0 = torch.full((200_000, 1), 0.7)
    x = x0.clone()
    for t in range(1, 31):
        x = math.sqrt(1 - s.betas[t]) * x + math.sqrt(s.betas[t]) * torch.randn(x.shape, generator=gen)
    direct = d.q_sample(x0, torch.full((200_000,), 30), torch.randn(x0.shape, generator=gen), s)
    assert abs(x.mean() - direct.mean()) < 0.02 and abs(x.var() - direct.var()) < 0.02
    ab = s.alpha_bars[30].item()
    assert abs(direct.mean() - math.sqrt(ab) * 0.7) < 0.02 and abs(direct.var() - (1 - ab)) < 0.02


def test_at_picks_one_value_per_image():
    values = torch.arange(5, dtype=torch.float64)
    out = d.at(values, torch.tensor([4, 0, 2]), torch.zeros(3, 1, 2, 2))
    assert out.shape == (3, 1, 1, 1) and out.dtype == torch.float32
    assert out.flatten().tolist() == [4.0, 0.0, 2.0]


# ---------------------------------------------------------------- the denoiser


def test_timestep_embedding():
    t = torch.tensor([0, 1, 500, 1000])
    e = d.timestep_embedding(t, 16)
    assert e.shape == (4, 16)
    torch.testing.assert_close(e[:, :8] ** 2 + e[:, 8:] ** 2, torch.ones(4, 8))  # sin^2 + cos^2
    torch.testing.assert_close(e[:, 0], torch.sin(t.float()))                   # omega_0 = 1
    torch.testing.assert_close(e[:, 7], torch.sin(t.float() * 10_000 ** (-7 / 8)))
    with pytest.raises(ValueError, match="even"):
        d.timestep_embedding(t, 15)


def test_denoising_unet_shapes_and_start():
    net = d.DenoisingUNet((8, 16, 16), emb_dim=32)
    x, t, y = torch.randn(3, 1, 28, 28), torch.tensor([1, 500, 1000]), torch.tensor([0, 9, net.null_label])
    out = net(x, t, y)
    assert out.shape == x.shape and net.null_label == 10
    assert torch.equal(out, torch.zeros_like(out))  # zero-initialised output layer: eps_theta = 0 at first
    assert net.label_emb.num_embeddings == 11


def test_resblock_starts_as_identity_and_uses_the_embedding():
    block = d.ResBlock(8, 8, emb_dim=4)
    x, emb = torch.randn(2, 8, 5, 5), torch.randn(2, 4)
    torch.testing.assert_close(block(x, emb), x)
    torch.nn.init.normal_(block.conv2.weight)
    assert not torch.allclose(block(x, emb), block(x, emb + 1))


# ---------------------------------------------------------------- loss, EMA


class Recorder(torch.nn.Module):
    """A stand-in denoiser: predicts a * x_t + b * (y == null); records the labels it saw."""

    null_label = 10

    def __init__(self, a=0.0, b=0.0):
        super().__init__()
        self.a, self.b, self.seen = torch.nn.Parameter(torch.tensor(a)), b, []

    def forward(self, x, t, y):
        self.seen.append(y.clone())
        return self.a * x + self.b * (y == self.null_label).float().view(-1, *[1] * (x.dim() - 1))


def test_loss_of_a_zero_predictor_is_the_noise_variance():
    s = d.cosine_schedule(100)
    torch.manual_seed(0)
    x0 = torch.rand(256, 1, 8, 8) * 2 - 1
    loss = d.diffusion_loss(Recorder(), x0, torch.zeros(256, dtype=torch.long), s)
    assert abs(loss.item() - 1.0) < 0.02


@pytest.mark.parametrize("p, share", [(0.0, 0.0), (1.0, 1.0), (0.3, 0.3)])
def test_label_dropout(p, share):
    torch.manual_seed(1)
    model = Recorder()
    x0, labels = torch.zeros(4000, 1, 2, 2), torch.full((4000,), 3)
    d.diffusion_loss(model, x0, labels, d.cosine_schedule(10), p_uncond=p)
    dropped = (model.seen[0] == 10).float().mean().item()
    assert abs(dropped - share) < 0.03 and set(model.seen[0].tolist()) <= {3, 10}


def test_ema_update_with_warm_up():
    model, ema = torch.nn.Linear(2, 1), torch.nn.Linear(2, 1)
    before = ema.weight.detach().clone()
    d.ema_update(ema, model, decay=0.999, steps_done=0)          # mu = min(0.999, 1 / 10)
    torch.testing.assert_close(ema.weight, 0.1 * before + 0.9 * model.weight.detach())
    before = ema.weight.detach().clone()
    d.ema_update(ema, model, decay=0.9, steps_done=10_000)       # mu = 0.9
    torch.testing.assert_close(ema.weight, 0.9 * before + 0.1 * model.weight.detach())


# ---------------------------------------------------------------- sampling


def posterior_reference(x0, x_t, t, s):
    """Mean and variance of q(x_{t-1} | x_t, x_0) by Bayes' rule for two Gaussians."""
    ab_prev, alpha, beta = s.alpha_bars[t - 1].item(), s.alphas[t].item(), s.betas[t].item()
    precision = 1 / (1 - ab_prev) + alpha / beta
    mean = (math.sqrt(ab_prev) * x0 / (1 - ab_prev) + math.sqrt(alpha) * x_t / beta) / precision
    return mean, 1 / precision


@pytest.mark.parametrize("t", [2, 10, 400, 999])
def test_ddpm_step_draws_from_the_posterior(t):
    s = d.cosine_schedule(1000)
    gen = torch.Generator().manual_seed(t)
    x0 = torch.rand(3, 1, 4, 4, generator=gen) * 1.8 - 0.9        # inside [-1, 1]: clipping changes nothing
    eps = torch.randn(x0.shape, generator=gen)
    x_t = d.q_sample(x0, torch.full((3,), t), eps, s)
    mean, var = posterior_reference(x0, x_t, t, s)
    torch.testing.assert_close(d.ddpm_step(x_t, eps, t, s, None), mean, rtol=1e-3, atol=1e-4)
    z = torch.randn(x0.shape, generator=gen)
    noise_part = d.ddpm_step(x_t, eps, t, s, z) - mean
    torch.testing.assert_close(noise_part, math.sqrt(var) * z, rtol=1e-3, atol=1e-4)


def test_last_ddpm_step_returns_the_clean_estimate():
    s = d.cosine_schedule(1000)
    x0 = torch.rand(2, 1, 3, 3) - 0.5
    eps = torch.randn(2, 1, 3, 3)
    x1 = d.q_sample(x0, torch.ones(2, dtype=torch.long), eps, s)
    torch.testing.assert_close(d.ddpm_step(x1, eps, 1, s, torch.randn_like(x0)), x0, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("t", [1000, 500, 2])
def test_ddim_with_eta_one_is_ddpm(t):
    s = d.cosine_schedule(1000)
    x_t, eps, z = torch.randn(3, 4), torch.randn(3, 4), torch.randn(3, 4)
    ddim = d.ddim_step(x_t, eps, t, t - 1, s, eta=1.0, z=z)
    torch.testing.assert_close(ddim, d.ddpm_step(x_t, eps, t, s, z), rtol=1e-4, atol=1e-5)


def test_ddim_step_with_an_exact_noise_prediction_lands_on_the_marginal():
    """If eps is the true noise, an eta = 0 step from t to s gives sqrt(ab_s) x0 + sqrt(1 - ab_s) eps."""
    s = d.linear_schedule(1000)
    x0, eps = torch.rand(2, 1, 5, 5) - 0.5, torch.randn(2, 1, 5, 5)
    x_t = d.q_sample(x0, torch.full((2,), 700), eps, s)
    want = d.q_sample(x0, torch.full((2,), 300), eps, s)
    torch.testing.assert_close(d.ddim_step(x_t, eps, 700, 300, s), want, rtol=1e-4, atol=1e-4)


def test_clipping_only_when_asked():
    s = d.cosine_schedule(100)
    x_t, eps = torch.full((1, 3), 5.0), torch.zeros(1, 3)
    assert d.predict_x0(x_t, eps, 50, s).max() == 1.0
    assert d.predict_x0(x_t, eps, 50, s, clip=False).max() > 5.0


def test_ddim_timesteps():
    assert d.ddim_timesteps(1000, 4) == [1000, 750, 500, 250, 0]
    ts = d.ddim_timesteps(1000, 50)
    assert len(ts) == 51 and ts[0] == 1000 and ts[-1] == 0 and ts[1] == 980
    assert d.ddim_timesteps(10, 10) == list(range(10, -1, -1))
    for bad in (0, 11):
        with pytest.raises(ValueError, match="between 1 and T"):
            d.ddim_timesteps(10, bad)


def test_guidance_combines_two_predictions():
    model = Recorder(a=2.0, b=1.0)           # eps(x, y) = 2x, eps(x, null) = 2x + 1
    x, y = torch.randn(4, 1, 2, 2), torch.arange(4)
    torch.testing.assert_close(d.predict_eps(model, x, 7, y, 0.0), 2 * x)
    assert len(model.seen) == 1                                    # w = 0: one forward pass
    torch.testing.assert_close(d.predict_eps(model, x, 7, y, 3.0), 4 * 2 * x - 3 * (2 * x + 1))
    assert len(model.seen[-1]) == 8                               # one doubled batch
    torch.testing.assert_close(d.predict_eps(model, x, 7, None, 3.0), 2 * x + 1)   # unconditional


def test_sample_diffusion_is_reproducible_and_independent_of_the_batch_size():
    torch.manual_seed(0)
    net = d.DenoisingUNet((8, 16, 16), emb_dim=32)
    torch.nn.init.normal_(net.out[-1].weight, std=0.1)
    s = d.cosine_schedule(100)
    y = torch.arange(6) % 10
    a = d.sample_diffusion(net, s, 6, y=y, steps=5, seed=3, batch_size=6, w=1.0)
    b = d.sample_diffusion(net, s, 6, y=y, steps=5, seed=3, batch_size=4, w=1.0)
    torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)
    assert a.shape == (6, 1, 28, 28) and a.min() >= -1 and a.max() <= 1
    assert not torch.equal(a, d.sample_diffusion(net, s, 6, y=y, steps=5, seed=4))
    assert d.sample_diffusion(net, s, 2, sampler="ddpm").shape == (2, 1, 28, 28)
    net.train()
    d.sample_diffusion(net, s, 2, steps=2)
    assert net.training                                           # given back in its mode


@pytest.mark.parametrize("kwargs, match", [
    (dict(sampler="euler"), "'ddim' or 'ddpm'"), (dict(y=torch.arange(3)), "3 labels for 2 samples"),
])
def test_sample_diffusion_refuses_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        d.sample_diffusion(d.DenoisingUNet((8, 16, 16), emb_dim=32), d.cosine_schedule(10), 2, **kwargs)


# ---------------------------------------------------------------- training, train or load, resume

TINY = dict(channels=(8, 16, 16), emb_dim=32, T=100, epochs=2, batch_size=64, train_limit=256, fixed_steps=2)


def test_train_diffusion_trains_once_then_loads(settings, capsys):
    config = d.DiffusionConfig(**TINY)
    run = d.train_diffusion(config, settings, progress_bar=False)
    loss = run.history.step["loss"]
    assert len(loss) == 8 and loss[-1] < loss[0]
    grids = run.fixed_samples()
    assert grids.shape == (2, 100, 1, 28, 28) and grids.min() >= 0 and grids.max() <= 1
    assert not run.model.training
    first = run.model_at(1)
    assert not torch.equal(first.dec1.conv1.weight, run.model.dec1.conv1.weight)
    torch.testing.assert_close(run.model_at(2).dec1.conv1.weight, run.model.dec1.conv1.weight)
    capsys.readouterr()
    again = d.train_diffusion(config, settings, progress_bar=False)
    assert "already trained" in capsys.readouterr().out
    for a, b in zip(run.model.parameters(), again.model.parameters(), strict=True):
        assert torch.equal(a, b)
    x = again.sample(3, seed=0, labels=torch.arange(3), steps=2)
    assert x.shape == (3, 1, 28, 28) and x.min() >= 0 and x.max() <= 1
    edited = dataclasses.replace(config, p_uncond=0.2)
    with pytest.raises(cu.CheckpointError, match="p_uncond: saved 0.1, now 0.2"):
        d.train_diffusion(edited, settings, progress_bar=False)


def test_an_interrupted_run_resumes_to_the_same_model(settings, tmp_path, monkeypatch):
    config = d.DiffusionConfig(**TINY)
    straight = d.train_diffusion(config, settings, progress_bar=False)

    other = dataclasses.replace(settings, checkpoint_root=tmp_path / "interrupted")
    original = d.snapshots.save

    def interrupt_in_epoch_2(checkpoint, epoch, *args):
        if epoch == 2:
            raise KeyboardInterrupt
        return original(checkpoint, epoch, *args)

    monkeypatch.setattr(d.snapshots, "save", interrupt_in_epoch_2)
    with pytest.raises(KeyboardInterrupt):
        d.train_diffusion(config, other, progress_bar=False)
    monkeypatch.setattr(d.snapshots, "save", original)
    resumed = d.train_diffusion(config, other, progress_bar=False)
    assert resumed.history.step["loss"] == straight.history.step["loss"]
    for a, b in zip(straight.model.parameters(), resumed.model.parameters(), strict=True):
        torch.testing.assert_close(a, b)
    torch.testing.assert_close(resumed.fixed_samples(), straight.fixed_samples())


def test_zoo_uses_the_notebook_recipe(settings, monkeypatch):
    seen = {}
    monkeypatch.setattr(d, "train_diffusion",
                        lambda config, s, device, **kw: seen.update(config=config) or "run")
    assert cu.zoo.diffusion(settings, "cpu") == "run"
    assert seen["config"] == d.diffusion_recipe(settings)
    assert seen["config"].train_limit == 8000  # smoke mode
