"""The VAE code of notebook 04 (course_utils/vae.py, generated from its cells).

The maths against torch.distributions and exact references, the models' shapes, the bounds,
and the recipes' train-or-load with tiny configurations on a few hundred real digits (the
real trainings run in the notebook).
"""

import copy
import dataclasses
import math
import re

import pytest
import torch
from torch import nn
from torch.distributions import Bernoulli, Independent, MultivariateNormal, Normal, kl_divergence

import course_utils as cu
from course_utils import vae as V


def _gen(seed=0):
    return torch.Generator().manual_seed(seed)


def test_gaussian_kl_matches_torch_distributions():
    g = _gen()
    mu, logvar = torch.randn(7, 5, generator=g) * 2, torch.randn(7, 5, generator=g)
    q = Independent(Normal(mu, torch.exp(0.5 * logvar)), 1)
    p = Independent(Normal(torch.zeros(5), torch.ones(5)), 1)
    torch.testing.assert_close(V.gaussian_kl(mu, logvar), kl_divergence(q, p))
    assert V.gaussian_kl(torch.zeros(3, 4), torch.zeros(3, 4)).abs().max() == 0  # q = p


def test_gaussian_kl_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="same shape"):
        V.gaussian_kl(torch.zeros(3, 4), torch.zeros(3, 5))


def test_reparameterized_sample_has_the_right_distribution_and_passes_gradients():
    mu = torch.tensor([[1.0, -2.0, 0.5]], requires_grad=True)
    logvar = torch.tensor([[0.0, math.log(4.0), math.log(0.25)]], requires_grad=True)
    eps = torch.randn(200_000, 3, generator=_gen())
    z = V.reparameterize(mu.expand(200_000, 3), logvar.expand(200_000, 3), eps)
    torch.testing.assert_close(z.mean(0), mu[0].detach(), atol=0.02, rtol=0)
    torch.testing.assert_close(z.std(0), torch.tensor([1.0, 2.0, 0.5]), atol=0.02, rtol=0)
    # d z / d mu = 1 and d z / d logvar = eps * sigma / 2: gradients flow through the sample
    z.sum().backward()
    torch.testing.assert_close(mu.grad, torch.full((1, 3), 200_000.0))
    expected = (eps * torch.exp(0.5 * logvar.detach()) / 2).sum(0, keepdim=True)
    torch.testing.assert_close(logvar.grad, expected, rtol=1e-4, atol=1e-2)


def test_reparameterize_draws_noise_and_checks_its_shape():
    mu, logvar = torch.zeros(4, 2), torch.zeros(4, 2)
    torch.manual_seed(0)
    a = V.reparameterize(mu, logvar)
    torch.manual_seed(0)
    torch.testing.assert_close(a, torch.randn(4, 2))
    with pytest.raises(ValueError, match="eps"):
        V.reparameterize(mu, logvar, torch.zeros(4, 3))


def test_gaussian_log_density_matches_normal():
    g = _gen(1)
    z = torch.randn(3, 6, 4, generator=g)
    mu, logvar = torch.randn(6, 4, generator=g), torch.randn(6, 4, generator=g)
    ref = Independent(Normal(mu, torch.exp(0.5 * logvar)), 1).log_prob(z)
    torch.testing.assert_close(V.gaussian_log_density(z, mu, logvar), ref)


def test_bernoulli_log_likelihood_matches_torch_and_the_bce_of_pytorch_examples():
    g = _gen(2)
    logits = torch.randn(5, 1, 28, 28, generator=g) * 3
    x01 = torch.rand(5, 1, 28, 28, generator=g)  # continuous pixels, as in pytorch/examples
    ours = V.bernoulli_log_likelihood(logits, x01)
    ref = Independent(Bernoulli(logits=logits, validate_args=False), 3).log_prob(x01)
    torch.testing.assert_close(ours, ref, rtol=1e-5, atol=1e-3)
    bce = nn.functional.binary_cross_entropy(torch.sigmoid(logits), x01, reduction="sum")
    torch.testing.assert_close(-ours.sum(), bce, rtol=1e-4, atol=1e-2)
    with pytest.raises(ValueError, match="same shape"):
        V.bernoulli_log_likelihood(logits, x01[:, :, :27])


def test_gaussian_log_likelihood_matches_normal():
    g = _gen(3)
    mean, x = torch.rand(4, 1, 28, 28, generator=g), torch.rand(4, 1, 28, 28, generator=g)
    ref = Independent(Normal(mean, 0.3), 3).log_prob(x)
    torch.testing.assert_close(V.gaussian_log_likelihood(mean, x, 0.3), ref, rtol=1e-5, atol=1e-3)
    with pytest.raises(ValueError, match="positive"):
        V.gaussian_log_likelihood(mean, x, 0.0)


@pytest.mark.parametrize("make", [lambda: V.MlpVAE(), lambda: V.ConvVAE(), lambda: V.ConvVAE(latent_dim=2),
                                  lambda: V.MlpVAE(latent_dim=2, likelihood="gaussian", sigma=0.1)])
def test_model_shapes_and_sampling(make):
    model = make()
    x = torch.rand(3, 1, 28, 28)
    mu, logvar = model.encode(x)
    assert mu.shape == logvar.shape == (3, model.latent_dim)
    assert model.decode_logits(mu).shape == (3, 1, 28, 28)
    samples = model.sample(5, generator=_gen())
    assert samples.shape == (5, 1, 28, 28) and samples.min() >= 0 and samples.max() <= 1
    torch.testing.assert_close(samples, model.sample(5, generator=_gen()))  # reproducible
    assert V.negative_elbo(model, x).shape == (3,)


def test_classic_mlp_has_the_size_of_pytorch_examples():
    # fc1 784-400, fc21/fc22 400-20, fc3 20-400, fc4 400-784
    expected = (784 * 400 + 400) + 2 * (400 * 20 + 20) + (20 * 400 + 400) + (400 * 784 + 784)
    assert cu.count_parameters(V.MlpVAE()) == expected


def test_models_refuse_bad_input():
    model = V.MlpVAE()
    with pytest.raises(ValueError, match=r"\[B, 1, 28, 28\]"):
        model.encode(torch.rand(3, 784))
    with pytest.raises(ValueError, match="latents"):
        model.decode(torch.zeros(3, 7))
    with pytest.raises(ValueError, match="likelihood"):
        V.MlpVAE(likelihood="poisson")
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        V.evaluate_elbo(model, torch.rand(4, 1, 28, 28) * 2 - 1, torch.device("cpu"))


def test_negative_elbo_is_recon_plus_kl_by_hand():
    torch.manual_seed(0)
    model = V.MlpVAE(latent_dim=3)
    x = torch.rand(4, 1, 28, 28)
    eps = torch.randn(4, 3)
    mu, logvar = model.encode(x)
    z = mu + torch.exp(0.5 * logvar) * eps
    p = torch.sigmoid(model.decode_logits(z))
    recon = -(x * torch.log(p) + (1 - x) * torch.log(1 - p)).flatten(1).sum(1)
    kl = kl_divergence(Normal(mu, torch.exp(0.5 * logvar)), Normal(0.0, 1.0)).sum(1)
    torch.testing.assert_close(V.negative_elbo(model, x, eps), recon + kl, rtol=1e-5, atol=1e-3)


class LinearGaussian(nn.Module):
    """p(z) = N(0, I), p(x|z) = N(W z + b, s^2 I): log p(x) is known exactly, N(b, W W^T + s^2 I)."""

    def __init__(self, d_x=6, d_z=2, s=0.5, seed=0):
        super().__init__()
        g = _gen(seed)
        self.W, self.b, self.s = torch.randn(d_x, d_z, generator=g), torch.randn(d_x, generator=g), s
        self.latent_dim = d_z
        self.encoder = nn.Linear(d_x, 2 * d_z)  # an arbitrary (not the exact) posterior

    def encode(self, x):
        return self.encoder(x).chunk(2, dim=1)

    def log_likelihood(self, x, z):
        return Independent(Normal(z @ self.W.T + self.b, self.s), 1).log_prob(x)

    def log_px(self, x):
        cov = self.W @ self.W.T + self.s**2 * torch.eye(len(self.b))
        return MultivariateNormal(self.b, cov).log_prob(x)

    def exact_posterior(self, x):
        """q(z|x) = p(z|x): Gaussian with precision I + W^T W / s^2 (diagonal only if that matrix is)."""
        prec = torch.eye(self.latent_dim) + self.W.T @ self.W / self.s**2
        cov = torch.linalg.inv(prec)
        mean = (x - self.b) @ self.W @ cov.T / self.s**2
        return mean, cov


def test_iwae_bound_is_below_the_exact_log_likelihood_and_tightens_with_k():
    torch.manual_seed(0)
    model = LinearGaussian()
    x = model.log_px.__self__.b + torch.randn(64, 6)  # data near the model
    exact = model.log_px(x).mean()
    with torch.no_grad():
        bounds = {k: V.iwae_log_likelihood(model, x, k, _gen(k)).mean() for k in (1, 10, 100, 5000)}
    assert bounds[1] < bounds[10] < bounds[100] < bounds[5000] <= exact + 0.01
    # with many samples the bound reaches log p(x), even with a poor encoder
    assert exact - bounds[5000] < 0.1 * (exact - bounds[1])


def test_iwae_equals_log_px_with_the_exact_posterior():
    """With q(z|x) = p(z|x) every importance weight equals p(x): L_k = log p(x) for any k."""
    model = LinearGaussian(d_z=1)  # a 1-d latent: the exact posterior is a (diagonal) Gaussian
    x = torch.randn(16, 6, generator=_gen(4))
    mean, cov = model.exact_posterior(x)
    model.encode = lambda x_: (mean, torch.log(cov.diagonal()).expand_as(mean))
    for k in (1, 7):
        torch.testing.assert_close(V.iwae_log_likelihood(model, x, k, _gen()), model.log_px(x),
                                   rtol=1e-4, atol=1e-3)


@pytest.fixture(scope="module")
def trained_mlp(session_settings):
    """A small MLP VAE (hidden 128, 8 latents) after 100 steps on 512 real digits, and 200 test digits."""
    x, _ = cu.mnist_tensors(session_settings, train=True, limit=512)
    x_test = cu.mnist_tensors(session_settings, train=False, limit=200)[0]
    with cu.isolated_rng(0):
        model = V.MlpVAE(latent_dim=8, hidden=128)
        opt = torch.optim.Adam(model.parameters(), lr=3e-3)
        for step in range(100):
            batch = x[(step * 64) % 512:][:64]
            loss = V.negative_elbo(model, batch).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
    return model.eval(), x_test


def test_iwae_is_above_the_elbo_and_tightens_on_a_trained_vae(trained_mlp):
    model, x = trained_mlp
    elbo = -V.evaluate_elbo(model, x)["nelbo"]
    iwae = {k: V.evaluate_iwae(model, x, k=k, progress_bar=False).mean().item() for k in (1, 10, 100)}
    assert abs(iwae[1] - elbo) < 1.0  # L_1 is a one-sample ELBO
    assert elbo < iwae[10] < iwae[100]
    assert iwae[100] - elbo > 1.0  # a real gain in nats, not noise (measured: about 6)


def test_evaluate_elbo_is_reproducible_and_batch_size_independent(trained_mlp):
    model, x = trained_mlp
    a = V.evaluate_elbo(model, x, batch_size=1000)
    b = V.evaluate_elbo(model, x, torch.device("cpu"), batch_size=1000)
    c = V.evaluate_elbo(model, x, batch_size=64)
    assert a == b
    assert a["kl"] > 0 and a["recon"] > 0
    assert abs(a["nelbo"] - c["nelbo"]) < 1e-3 * a["nelbo"]
    assert a["nelbo"] == pytest.approx(a["recon"] + a["kl"])
    assert a["nelbo"] < 300  # 100 steps on real digits (measured about 205); an untrained model: about 545


class _Broken(nn.Module):
    def forward(self, x):
        raise RuntimeError("a broken encoder")


def test_evaluation_gives_the_model_back_in_its_mode():
    model = V.MlpVAE(latent_dim=3, hidden=16).train()
    x = torch.rand(6, 1, 28, 28)
    V.evaluate_elbo(model, x)
    V.evaluate_iwae(model, x, k=3, progress_bar=False)
    assert model.training
    model.eval()
    V.evaluate_elbo(model, x)
    assert not model.training
    model.train()
    model.encoder = _Broken()
    for evaluate in (V.evaluate_elbo, lambda m, x: V.evaluate_iwae(m, x, k=2, progress_bar=False)):
        with pytest.raises(RuntimeError, match="broken encoder"):
            evaluate(model, x)
        assert model.training, "the mode must be restored also when the evaluation fails"


def test_fit_vae_logs_nats_and_refuses_images_outside_0_1(trained_mlp):
    model, x = trained_mlp
    model = copy.deepcopy(model)  # leave the shared fixture untouched
    loader = [(x[:64],), (x[64:128],)]
    opt = torch.optim.Adam(model.parameters(), lr=1e-4)
    h = V.fit_vae(model, loader, opt, epochs=1, beta=2.0, eval_sets={"test": x}, progress_bar=False)
    for key in ("loss", "nelbo", "recon", "kl", "test_nelbo", "test_recon", "test_kl"):
        assert len(h.epoch[key]) == 1, key
    assert h.epoch["loss"][0] == pytest.approx(h.epoch["recon"][0] + 2.0 * h.epoch["kl"][0])
    assert h.epoch["nelbo"][0] == pytest.approx(h.epoch["recon"][0] + h.epoch["kl"][0])
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        V.fit_vae(model, [(x[:8] * 2 - 1,)], opt, epochs=1, progress_bar=False)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        V.fit_vae(model, loader, opt, epochs=1, eval_sets={"test": x * 255}, progress_bar=False)


# ---------------------------------------------------------------- recipes: train or load, tiny configurations

TINY = {"mlp": dict(model="mlp", latent_dim=4, hidden=32, epochs=2, batch_size=32, lr=3e-3, train_limit=256,
                    train_eval=64),
        "conv": dict(model="conv", latent_dim=4, channels=(4, 8), hidden=16, epochs=2, batch_size=32, lr=3e-3,
                     schedule="one-cycle", train_limit=256, train_eval=64)}


@pytest.mark.parametrize("kind", ["mlp", "conv"])
def test_train_vae_trains_once_then_loads_with_the_history_notebook_06_needs(settings, capsys, kind):
    config = V.VaeConfig(**TINY[kind])
    model, hist = V.train_vae(config, settings, name="vae", progress_bar=False)
    assert isinstance(model, {"mlp": V.MlpVAE, "conv": V.ConvVAE}[kind]) and not model.training
    assert hist.epochs_done == 2 and len(hist.epoch["train_nelbo"]) == len(hist.epoch["test_nelbo"]) == 2
    assert hist.epoch["test_nelbo"][1] < hist.epoch["test_nelbo"][0]  # 16 steps on 256 real digits
    if kind == "mlp":  # measured 350-380 nats after 2 epochs over three seeds; an untrained model: about 545
        assert hist.epoch["test_nelbo"][-1] < 420 and hist.epoch["test_kl"][-1] > 0
    assert settings.checkpoint_path("vae").is_file()
    capsys.readouterr()
    again, hist2 = V.train_vae(config, settings, name="vae", progress_bar=False)
    assert "already trained" in capsys.readouterr().out
    assert hist2.epoch["test_nelbo"] == hist.epoch["test_nelbo"]
    samples = again.sample(4, generator=_gen())
    torch.testing.assert_close(samples, model.sample(4, generator=_gen()))
    assert samples.shape == (4, 1, 28, 28) and samples.min() >= 0 and samples.max() <= 1


@pytest.mark.parametrize("field, value", [("lr", 1e-3), ("beta", 2.0), ("latent_dim", 5), ("batch_size", 16),
                                          ("schedule", "one-cycle"), ("seed", 1), ("likelihood", "gaussian")])
def test_an_edited_hyperparameter_is_never_loaded_silently(settings, field, value):
    """Changing a field of the config refuses the old checkpoint instead of loading it."""
    config = V.VaeConfig(**{**TINY["mlp"], "epochs": 1})
    V.train_vae(config, settings, name="vae", progress_bar=False)
    edited = dataclasses.replace(config, **{field: value})
    difference = re.escape(f"{field}: saved {getattr(config, field)!r}, now {value!r}")
    with pytest.raises(cu.CheckpointError, match=rf"(?s)other settings.*{difference}"):
        V.train_vae(edited, settings, name="vae", progress_bar=False)
    if field == "lr":  # under another name the edited recipe trains, and gives another model
        other, _ = V.train_vae(edited, settings, name="vae_lr1e-3", progress_bar=False)
        assert settings.checkpoint_path("vae_lr1e-3").is_file()
        first, _ = V.train_vae(config, settings, name="vae", progress_bar=False)
        assert not torch.equal(other.decoder[-2].weight, first.decoder[-2].weight)


def test_train_vae_is_reproducible_and_leaves_the_callers_random_numbers(settings):
    config = V.VaeConfig(**{**TINY["mlp"], "epochs": 1})
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    a, _ = V.train_vae(config, settings, name="a", progress_bar=False)
    torch.testing.assert_close(torch.rand(3), expected)  # the caller's next numbers are untouched
    b, _ = V.train_vae(config, settings, name="b", progress_bar=False)
    for (name, pa), pb in zip(a.state_dict().items(), b.state_dict().values(), strict=True):
        torch.testing.assert_close(pa, pb, msg=name)


def test_configs_refuse_unknown_models_and_schedules():
    with pytest.raises(ValueError, match="'mlp' or 'conv'"):
        V.build_vae(V.VaeConfig(model="resnet"))
    with pytest.raises(ValueError, match="'constant' or 'one-cycle'"):
        V.vae_optimizer(V.MlpVAE(latent_dim=2, hidden=8), V.VaeConfig(schedule="cosine"), steps_per_epoch=10)


def test_the_recipes_are_pytorch_examples_and_the_conv_vae():
    full = cu.get_settings({"COURSE_SMOKE": "0"})
    mlp = V.mlp_vae_recipe(full)
    assert (mlp.model, mlp.latent_dim, mlp.hidden, mlp.lr, mlp.schedule, mlp.batch_size, mlp.epochs,
            mlp.train_limit, mlp.beta, mlp.likelihood) == (
        "mlp", 20, 400, 1e-3, "constant", 128, 10, None, 1.0, "bernoulli")
    assert cu.count_parameters(V.build_vae(mlp)) == cu.count_parameters(V.MlpVAE())
    conv = V.vae_recipe(full)
    assert (conv.model, conv.latent_dim, conv.channels, conv.hidden, conv.lr, conv.schedule, conv.epochs) == (
        "conv", 32, (32, 64), 256, 3e-3, "one-cycle", 10)
    smoke = V.vae_recipe(cu.get_settings({"COURSE_SMOKE": "1"}))
    assert (smoke.epochs, smoke.train_limit, smoke.train_eval) == (3, 8000, 2000)


def test_zoo_uses_the_notebook_recipes(settings, monkeypatch):
    seen = []
    monkeypatch.setattr(V, "train_vae", lambda config, s, device, *, name, progress_bar: seen.append(
        (config, name)) or ("model", "history"))
    assert cu.zoo.vae(settings, "cpu") == ("model", "history")
    assert cu.zoo.mlp_vae(settings, "cpu") == ("model", "history")
    assert seen == [(V.vae_recipe(settings), "vae"), (V.mlp_vae_recipe(settings), "mlp_vae")]
