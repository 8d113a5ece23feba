"""Notebook 05's promoted conditional GAN (course_utils.cgan) against direct computations."""

import copy

import pytest
import torch
import torch.nn.functional as F

import course_utils as cu
from course_utils import cgan, gan


def _n_params(module):
    return sum(p.numel() for p in module.parameters())


def test_conditional_models_are_the_dcgan_models_with_a_label():
    G = cgan.ConditionalGenerator(latent_dim=8, channels=4, num_classes=10)
    D = cgan.ConditionalDiscriminator(channels=4, num_classes=10)
    x = G(torch.randn(5, 8), torch.arange(5))
    assert x.shape == (5, 1, 28, 28) and x.abs().max() <= 1 and D(x, torch.arange(5)).shape == (5,)
    # the generator's first layer takes 8 + 10 inputs; the discriminator adds one vector per digit
    assert _n_params(G) == _n_params(gan.Generator(8 + 10, 4))
    assert _n_params(D) == _n_params(gan.Discriminator(4)) + 10 * 4 * 4 * 16


def test_projection_discriminator_is_a_per_class_linear_head():
    D = cgan.ConditionalDiscriminator(channels=4, num_classes=10).eval()
    D.apply(gan.init_weights)
    x = torch.rand(10, 1, 28, 28) * 2 - 1
    y = torch.arange(10)
    phi = D.features(x)
    ref = torch.stack([(D.head.weight[0] + D.embed.weight[k]) @ phi[k] + D.head.bias[0] for k in range(10)])
    torch.testing.assert_close(D(x, y), ref)


def test_conditional_generator_feeds_z_and_the_one_hot_label_to_the_dcgan_layers():
    torch.manual_seed(0)
    G = cgan.ConditionalGenerator(latent_dim=8, channels=4, num_classes=10).eval()
    z = torch.randn(1, 8).repeat(2, 1)
    y = torch.tensor([3, 7])
    x = G(z, y)
    assert not torch.allclose(x[0], x[1])
    h = torch.cat([z, F.one_hot(y, 10).float()], 1)[:, :, None, None]
    torch.testing.assert_close(G.net(h), x)
    torch.testing.assert_close(cgan.condition_latent(z, y), h[:, :, 0, 0])


def test_conditional_models_refuse_bad_labels():
    G = cgan.ConditionalGenerator(8, 4, num_classes=10)
    D = cgan.ConditionalDiscriminator(4, num_classes=10)
    with pytest.raises(ValueError, match="pass labels"):
        G(torch.randn(2, 8))
    with pytest.raises(ValueError, match="0..9"):
        G(torch.randn(2, 8), torch.tensor([1, 10]))
    with pytest.raises(ValueError, match="integer tensor"):
        D(torch.zeros(2, 1, 28, 28), torch.tensor([1.0, 2.0]))
    with pytest.raises(ValueError, match=r"shape \[2\]"):
        D(torch.zeros(2, 1, 28, 28), torch.tensor([1, 2, 3]))
    with pytest.raises(ValueError, match=r"\[B, 8\]"):
        G(torch.randn(2, 18), torch.tensor([1, 2]))


def test_labelled_batch_gives_real_labels_and_uniform_fake_labels():
    G = cgan.ConditionalGenerator(8, 4, num_classes=10)
    x, y = torch.zeros(4000, 1, 28, 28), torch.arange(4000) % 10
    torch.manual_seed(0)
    x_real, (y_real,), (y_fake,) = cgan.labelled_batch((x, y), G, torch.device("cpu"))
    assert x_real is x and torch.equal(y_real, y)
    counts = torch.bincount(y_fake, minlength=10)
    assert counts.sum() == 4000 and counts.min() > 300 and counts.max() < 500  # uniform: 400 each


def test_conditional_step_matches_the_algorithm_written_out():
    cfg = cgan.CganConfig(latent_dim=8, g_channels=4, d_channels=4, label_smoothing=0.1)
    torch.manual_seed(0)
    G, D = cfg.build_models()
    G2, D2 = copy.deepcopy(G), copy.deepcopy(D)
    oG, oD, oG2, oD2 = (torch.optim.SGD(m.parameters(), lr=0.1) for m in (G, D, G2, D2))
    x = torch.rand(16, 1, 28, 28) * 2 - 1
    y = torch.randint(0, 10, (16,))
    step = cfg.build_step(G, D, oG, oD)

    torch.manual_seed(5)
    logs = step((x, y))

    torch.manual_seed(5)  # the reference: labels for the fakes first, then the latents
    yf = torch.randint(0, 10, (16,))
    fake = G2(torch.randn(16, 8), yf)
    d_real, d_fake = torch.sigmoid(D2(x, y)), torch.sigmoid(D2(fake.detach(), yf))
    loss_D = -(0.9 * torch.log(d_real) + 0.1 * torch.log(1 - d_real)).mean() - torch.log(1 - d_fake).mean()
    oD2.zero_grad()
    loss_D.backward()
    oD2.step()
    loss_G = -torch.log(torch.sigmoid(D2(fake, yf))).mean()
    oG2.zero_grad()
    loss_G.backward()
    oG2.step()

    assert logs["loss_D"] == pytest.approx(loss_D.item(), rel=1e-4)
    assert logs["loss_G"] == pytest.approx(loss_G.item(), rel=1e-4)
    for a, b in [(G, G2), (D, D2)]:
        for (k, p), q in zip(a.state_dict().items(), b.state_dict().values(), strict=True):
            torch.testing.assert_close(p, q, msg=k, rtol=1e-4, atol=1e-6)


def test_config_keeps_the_checkpoint_format_of_the_cgan_recipe():
    """The recipe's config dict is the one the course's cgan checkpoints have always stored."""
    settings = cu.get_settings({"COURSE_SMOKE": "1"})
    config, epochs = cgan.cgan_recipe(settings)
    assert epochs == 2 and config.train_limit == 8000
    saved_keys = {"recipe", "latent_dim", "g_channels", "d_channels", "num_classes", "lr_G", "lr_D", "beta1",
                  "beta2", "batch_size", "label_smoothing", "instance_noise", "noise_anneal_steps", "g_loss",
                  "train_limit", "seed", "n_fixed", "n_fixed_per_class", "snapshots"}
    from dataclasses import asdict
    assert set(asdict(config)) == saved_keys and config.recipe == "cgan/1"
    with pytest.raises(ValueError, match="num_classes"):
        cgan.CganConfig(num_classes=1)


def test_conditional_run_has_one_row_per_digit_and_samples_in_unit_range(settings):
    cfg = cgan.CganConfig(latent_dim=8, g_channels=4, d_channels=4, batch_size=64, train_limit=256,
                          n_fixed_per_class=2)
    run = gan.train_gan(settings, "cpu", "c", cfg, epochs=1, progress_bar=False)
    assert isinstance(run.G, cgan.ConditionalGenerator) and isinstance(run.D, cgan.ConditionalDiscriminator)
    assert torch.equal(run.fixed_y, torch.arange(10).repeat_interleave(2))
    torch.testing.assert_close(run.fixed_z[:2], run.fixed_z[2:4])  # each row shares the same latents
    grids = run.fixed_samples()
    assert grids.shape == (1, 20, 1, 28, 28) and grids.min() >= 0 and grids.max() <= 1
    with pytest.raises(ValueError, match="pass labels"):
        run.sample(3)
    x = run.sample(3, labels=torch.tensor([0, 1, 2]))
    assert x.shape == (3, 1, 28, 28) and x.min() >= 0 and x.max() <= 1
    G0 = run.generator_at(0)  # the initial weights, drawn as train_gan drew them
    assert isinstance(G0, cgan.ConditionalGenerator)
    strip = cu.gan_plots.progress_strip(grids, labels=run.fixed_y)
    assert strip.shape == (10, 1, 28, 28) and torch.equal(strip, grids[0, ::2])
