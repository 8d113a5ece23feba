"""Notebook 03's promoted DCGAN code (course_utils.gan) against direct computations.

Shapes and parameter counts, DCGAN's initialisation, the losses against their formulas, the
training step against Goodfellow et al.'s Algorithm 1 written out, whole runs (snapshots,
resume, loading, other configs, the caller's random numbers), samples in [0, 1], and the
latent-space tools against references.
"""

import copy
import dataclasses
import math
import random

import numpy as np
import pytest
import torch

import course_utils as cu
from course_utils import gan

# ---------------------------------------------------------------- models


def _n_params(module):
    return sum(p.numel() for p in module.parameters())


def test_generator_shapes_range_and_parameter_count():
    G = gan.Generator(latent_dim=8, channels=4)
    x = G(torch.randn(5, 8))
    assert x.shape == (5, 1, 28, 28) and x.abs().max() <= 1
    c, nz = 4, 8
    expected = (nz * 4 * c * 49 + 2 * 4 * c) + (4 * c * 2 * c * 16 + 2 * 2 * c) + (2 * c * c * 16 + 2 * c) \
        + (c * 9 + 1)
    assert _n_params(G) == expected


def test_discriminator_shapes_and_parameter_count():
    D = gan.Discriminator(channels=4)
    assert D(torch.rand(6, 1, 28, 28) * 2 - 1).shape == (6,)
    c = 4
    expected = (16 * c + c) + (c * 2 * c * 16 + 2 * 2 * c) + (2 * c * 4 * c * 9 + 2 * 4 * c) \
        + (4 * c * 16 + 1)
    assert _n_params(D) == expected


def test_discriminator_is_a_linear_read_out_of_its_features():
    D = gan.Discriminator(channels=4).eval()
    x = torch.rand(3, 1, 28, 28) * 2 - 1
    phi = D.features(x)
    torch.testing.assert_close(D(x), phi @ D.head.weight[0] + D.head.bias[0])


def test_models_refuse_bad_inputs():
    G, D = gan.Generator(8, 4), gan.Discriminator(4)
    with pytest.raises(ValueError, match=r"\[B, 8\]"):
        G(torch.randn(2, 9))
    with pytest.raises(ValueError, match=r"\[B, 1, 28, 28\]"):
        D(torch.zeros(2, 3, 28, 28))


def test_dcgan_initialisation():
    torch.manual_seed(0)
    G = gan.Generator(64, 32)
    G.apply(gan.init_weights)
    w = G.net[0].weight  # 64 x 128 x 7 x 7 = 401,408 weights
    assert abs(w.mean().item()) < 1e-3 and w.std().item() == pytest.approx(0.02, rel=0.02)
    bn = G.net[1]
    assert bn.weight.mean().item() == pytest.approx(1.0, abs=0.01) and torch.all(bn.bias == 0)
    assert torch.all(G.net[9].bias == 0)


# ---------------------------------------------------------------- losses


def test_losses_match_the_formulas():
    a_real = torch.tensor([2.0, -1.0, 0.5])
    a_fake = torch.tensor([-3.0, 0.2, 1.0])
    s = torch.sigmoid
    v = torch.log(s(a_real)).mean() + torch.log(1 - s(a_fake)).mean()  # V(D, G) on the batch
    torch.testing.assert_close(gan.discriminator_loss(a_real, a_fake), -v)
    smoothed = -(0.9 * torch.log(s(a_real)) + 0.1 * torch.log(1 - s(a_real))).mean() \
        - torch.log(1 - s(a_fake)).mean()
    torch.testing.assert_close(gan.discriminator_loss(a_real, a_fake, real_target=0.9), smoothed)
    torch.testing.assert_close(gan.generator_loss(a_fake, "saturating"), torch.log(1 - s(a_fake)).mean())
    torch.testing.assert_close(gan.generator_loss(a_fake), -torch.log(s(a_fake)).mean())
    with pytest.raises(ValueError, match="kind"):
        gan.generator_loss(a_fake, "hinge")
    with pytest.raises(ValueError, match="real_target"):
        gan.discriminator_loss(a_real, a_fake, real_target=0.3)


def test_saturating_loss_has_vanishing_gradient_where_d_rejects_fakes():
    a = torch.tensor([-8.0, -4.0, 0.0, 4.0], requires_grad=True)
    (g_sat,) = torch.autograd.grad(gan.generator_loss(a, "saturating") * 4, a)
    (g_ns,) = torch.autograd.grad(gan.generator_loss(a) * 4, a)
    torch.testing.assert_close(g_sat, -torch.sigmoid(a).detach())      # d/da log(1 - s(a)) = -s(a)
    torch.testing.assert_close(g_ns, -(1 - torch.sigmoid(a)).detach())  # d/da -log s(a) = -(1 - s(a))
    assert g_sat[0].abs() < 1e-3 and g_ns[0].abs() > 0.99


def test_extreme_logits_give_finite_losses():
    a = torch.tensor([-200.0, 200.0])
    assert torch.isfinite(gan.discriminator_loss(a, a)) and torch.isfinite(gan.generator_loss(a))


def test_the_exercise_checkers_accept_the_taught_losses_and_slerp():
    cu.exercises.gan.check_discriminator_loss(gan.discriminator_loss)
    cu.exercises.gan.check_non_saturating_loss(gan.generator_loss)
    cu.exercises.gan.check_slerp(gan.slerp)


# ---------------------------------------------------------------- the training step


def _tiny(seed=0):
    torch.manual_seed(seed)
    G, D = gan.Generator(8, 4), gan.Discriminator(4)
    G.apply(gan.init_weights)
    D.apply(gan.init_weights)
    return G, D


def _adam(m, lr=1e-3):
    return torch.optim.Adam(m.parameters(), lr=lr, betas=(0.5, 0.999))


def test_gan_step_matches_the_algorithm_written_out():
    G, D = _tiny()
    G2, D2 = copy.deepcopy(G), copy.deepcopy(D)
    # plain SGD: Adam's first step divides tiny gradients by their own size and would amplify rounding
    oG, oD, oG2, oD2 = (torch.optim.SGD(m.parameters(), lr=0.1) for m in (G, D, G2, D2))
    x = torch.rand(16, 1, 28, 28) * 2 - 1
    y = torch.randint(0, 10, (16,))
    step = gan.gan_step(G, D, oG, oD, label_smoothing=0.1)  # device=None: where G is

    torch.manual_seed(5)
    logs = step((x, y))

    torch.manual_seed(5)  # the reference, written out from Goodfellow et al.'s Algorithm 1
    z = torch.randn(16, 8)
    fake = G2(z)
    d_real, d_fake = torch.sigmoid(D2(x)), torch.sigmoid(D2(fake.detach()))
    loss_D = -(0.9 * torch.log(d_real) + 0.1 * torch.log(1 - d_real)).mean() - torch.log(1 - d_fake).mean()
    oD2.zero_grad()
    loss_D.backward()
    oD2.step()
    loss_G = -torch.log(torch.sigmoid(D2(fake))).mean()
    oG2.zero_grad()
    loss_G.backward()
    oG2.step()

    assert logs["loss_D"] == pytest.approx(loss_D.item(), rel=1e-4)
    assert logs["loss_G"] == pytest.approx(loss_G.item(), rel=1e-4)
    assert logs["D_x"] == pytest.approx(d_real.mean().item(), rel=1e-5)
    assert logs["D_G_z"] == pytest.approx(d_fake.mean().item(), rel=1e-5)
    for a, b in [(G, G2), (D, D2)]:
        for (k, p), q in zip(a.state_dict().items(), b.state_dict().values(), strict=True):
            torch.testing.assert_close(p, q, msg=k, rtol=1e-4, atol=1e-6)


def test_instance_noise_is_annealed_with_the_optimizer_steps():
    assert gan.instance_noise_std(0.5, 0, 100) == 0.5
    assert gan.instance_noise_std(0.5, 50, 100) == pytest.approx(0.25)
    assert gan.instance_noise_std(0.5, 200, 100) == 0.0
    assert gan.instance_noise_std(0.3, 10**6, 0) == 0.3  # no annealing: constant
    x = torch.zeros(2000)
    assert gan.add_noise(x, 0.0) is x and gan.add_noise(x, 0.5).std().item() == pytest.approx(0.5, rel=0.1)
    G, D = _tiny()
    oD = _adam(D)
    assert gan.optimizer_steps(oD) == 0
    step = gan.gan_step(G, D, _adam(G), oD, instance_noise=0.2, noise_anneal_steps=10)
    for _ in range(3):
        logs = step((torch.rand(8, 1, 28, 28) * 2 - 1, torch.zeros(8, dtype=torch.long)))
    assert gan.optimizer_steps(oD) == 3 and all(math.isfinite(v) for v in logs.values())


def test_gan_step_refuses_bad_options():
    G, D = _tiny()
    with pytest.raises(ValueError, match="label_smoothing"):
        gan.gan_step(G, D, _adam(G), _adam(D), label_smoothing=0.6)
    with pytest.raises(ValueError, match="kind"):
        gan.gan_step(G, D, _adam(G), _adam(D), g_loss="wasserstein")


def test_config_builds_models_optimizers_and_step_from_its_fields():
    cfg = gan.GanConfig(latent_dim=8, g_channels=4, d_channels=6, lr_G=1e-3, lr_D=5e-5, beta1=0.3)
    G, D = cfg.build_models()
    assert G.latent_dim == 8 and D.head.in_features == 4 * 6 * 16
    opt_G, opt_D = cfg.build_optimizers(G, D)
    assert opt_G.param_groups[0]["lr"] == 1e-3 and opt_D.param_groups[0]["lr"] == 5e-5
    assert opt_G.param_groups[0]["betas"] == (0.3, 0.999)
    z, y = cfg.fixed_inputs()
    assert z.shape == (64, 8) and y is None and torch.equal(z, cfg.fixed_inputs()[0])
    with pytest.raises(ValueError, match="latent_dim=0"):
        gan.GanConfig(latent_dim=0)
    with pytest.raises(ValueError, match="label_smoothing"):
        dataclasses.replace(cfg, label_smoothing=0.7).build_step(G, D, opt_G, opt_D)


# ---------------------------------------------------------------- sampling


def test_generate_is_g_in_eval_mode_mapped_to_unit_range_and_restores_the_mode():
    G, _ = _tiny()
    G.train()
    z = torch.randn(7, 8)
    out = gan.generate(G, z, batch_size=3)
    assert G.training and out.shape == (7, 1, 28, 28) and out.device.type == "cpu"
    assert out.min() >= 0 and out.max() <= 1
    with torch.no_grad():
        reference = (G.eval()(z) + 1) / 2  # the eval-mode output, [-1, 1] -> [0, 1]
    torch.testing.assert_close(out, reference)
    torch.testing.assert_close(out, gan.generate(G, z, batch_size=100))
    G.eval()
    gan.generate(G, z)
    assert not G.training  # an eval-mode model stays in eval mode
    with pytest.raises(ValueError, match="unconditional"):
        gan.generate(G, z, torch.zeros(7, dtype=torch.long))


def test_sample_latents_uses_its_own_generator():
    torch.manual_seed(0)
    before = torch.random.get_rng_state()
    a = gan.sample_latents(5, 8, seed=3)
    assert torch.equal(torch.random.get_rng_state(), before)
    assert torch.equal(a, torch.randn(5, 8, generator=torch.Generator().manual_seed(3)))


def test_per_pixel_std_against_numpy():
    x = torch.rand(9, 1, 4, 4)
    assert gan.per_pixel_std(x) == pytest.approx(np.std(x.numpy(), axis=0, ddof=1).mean(), rel=1e-5)
    assert gan.per_pixel_std(x[:1].repeat(5, 1, 1, 1)) == 0
    with pytest.raises(ValueError, match="at least 2"):
        gan.per_pixel_std(x[:1])


# ---------------------------------------------------------------- whole runs


def _config(**kw):
    return gan.GanConfig(latent_dim=8, g_channels=4, d_channels=4, batch_size=64, train_limit=256,
                         n_fixed=16, **kw)


def test_run_keeps_a_snapshot_per_epoch_and_continues_like_an_uninterrupted_run(settings):
    cfg = _config()
    whole = gan.train_gan(settings, "cpu", "whole", cfg, epochs=3, progress_bar=False)
    part = gan.train_gan(settings, "cpu", "part", cfg, epochs=1, progress_bar=False)
    assert part.epochs == 1
    rest = gan.train_gan(settings, "cpu", "part", cfg, epochs=3, progress_bar=False)  # resumes at epoch 1
    assert rest.history.step["loss_D"] == whole.history.step["loss_D"]
    for a, b in zip(whole.G.state_dict().values(), rest.G.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    assert not whole.G.training and not whole.D.training

    assert [p.name for p in whole.snapshot_paths()] == ["epoch_001.pt", "epoch_002.pt", "epoch_003.pt"]
    last = whole.generator_at(3)
    for a, b in zip(whole.G.state_dict().values(), last.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    first = whole.generator_at(1)
    assert not torch.equal(first.net[0].weight, last.net[0].weight)
    grids = whole.fixed_samples()
    assert grids.shape == (3, 16, 1, 28, 28) and grids.min() >= 0 and grids.max() <= 1
    torch.testing.assert_close(grids[2], gan.generate(last, whole.fixed_z), atol=0.5 / 255, rtol=0)
    assert whole.history.epoch["fixed_std"][-1] == pytest.approx(gan.per_pixel_std(grids[2]), abs=0.01)
    with pytest.raises(ValueError, match="between 0 and 3"):
        whole.generator_at(4)
    # loading a finished run gives the same generator, and samples in [0, 1]
    again = gan.train_gan(settings, "cpu", "whole", cfg, epochs=3, progress_bar=False)
    samples = again.sample(4, seed=3)
    assert torch.equal(samples, whole.sample(4, seed=3)) and samples.min() >= 0 and samples.max() <= 1


def test_generator_at_epoch_0_is_the_initial_generator(settings):
    run = gan.train_gan(settings, "cpu", "zero", _config(), epochs=0, progress_bar=False)
    initial = run.generator_at(0)
    for a, b in zip(run.G.state_dict().values(), initial.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    trained = gan.train_gan(settings, "cpu", "zero", _config(), epochs=1, progress_bar=False)
    assert torch.equal(trained.generator_at(0).net[0].weight, initial.net[0].weight)
    assert not torch.equal(trained.G.net[0].weight, initial.net[0].weight)


def test_a_run_gives_the_caller_its_random_numbers_back(settings):
    random.seed(1)
    np.random.seed(1)
    torch.manual_seed(1)
    expected = (random.random(), np.random.rand(), torch.rand(1))
    for load in (False, True):  # a training run, then a load of the finished run
        random.seed(1)
        np.random.seed(1)
        torch.manual_seed(1)
        gan.train_gan(settings, "cpu", "rng", _config(), epochs=1, progress_bar=False)
        got = (random.random(), np.random.rand(), torch.rand(1))
        assert got[:2] == expected[:2] and torch.equal(got[2], expected[2]), f"load={load}"


def test_runs_refuse_other_configs_and_drop_stale_snapshots(settings):
    run = gan.train_gan(settings, "cpu", "r", _config(), epochs=2, progress_bar=False)
    with pytest.raises(cu.CheckpointError, match="lr_D"):
        gan.train_gan(settings, "cpu", "r", _config(lr_D=1e-3), epochs=2, progress_bar=False)
    run.checkpoint.unlink()  # the learner deletes the run to retrain it for 1 epoch only
    gan.train_gan(settings, "cpu", "r", _config(), epochs=1, progress_bar=False)
    assert sorted(p.name for p in cu.snapshots.folder(run.checkpoint).iterdir()) == ["epoch_001.pt"]
    no_snap = gan.train_gan(settings, "cpu", "n", _config(snapshots=False), epochs=1, progress_bar=False)
    with pytest.raises(ValueError, match="snapshots=False"):
        no_snap.generator_at(1)
    with pytest.raises(ValueError, match="snapshots=False"):
        no_snap.fixed_samples()


def test_missing_or_foreign_snapshot_is_reported(settings):
    run = gan.train_gan(settings, "cpu", "m", _config(), epochs=2, progress_bar=False)
    other = dataclasses.replace(run, config=_config(seed=3))  # the same files, read with another config
    with pytest.raises(cu.CheckpointError, match="another config"):
        other.generator_at(2)
    cu.snapshots.path(run.checkpoint, 1).unlink()
    with pytest.raises(cu.CheckpointError, match="epoch_001.pt"):
        run.generator_at(2)
    with pytest.raises(cu.CheckpointError, match="epoch_001.pt"):
        run.fixed_samples()


def test_snapshot_files_round_trip(tmp_path):
    checkpoint = tmp_path / "run.pt"
    x01 = torch.rand(5, 1, 4, 4)
    model = torch.nn.Linear(3, 2)
    path = cu.snapshots.save(checkpoint, 1, {"a": 1}, {"m": model}, x01)
    assert path == tmp_path / "run_epochs" / "epoch_001.pt"
    snap = cu.snapshots.load(checkpoint, 1, {"a": 1})
    torch.testing.assert_close(snap["samples"], x01, atol=0.5 / 255, rtol=0)  # stored as bytes
    torch.testing.assert_close(snap["models"]["m"]["weight"], model.weight.detach())
    assert cu.snapshots.load_samples(checkpoint, 1, {"a": 1}).shape == (1, 5, 1, 4, 4)
    assert cu.snapshots.clear_stale(checkpoint) == [path]  # no checkpoint: a deleted run's leftovers
    assert not path.exists()
    with pytest.raises(ValueError, match="from epoch 1"):
        cu.snapshots.path(checkpoint, 0)


def test_dcgan_recipe():
    smoke = cu.get_settings({"COURSE_SMOKE": "1"})
    full = cu.get_settings({"COURSE_SMOKE": "0"})
    assert gan.dcgan_recipe(smoke) == (gan.GanConfig(recipe="dcgan/1", train_limit=8000), 2)
    assert gan.dcgan_recipe(full) == (gan.GanConfig(recipe="dcgan/1"), 7)


# ---------------------------------------------------------------- latents and attributes


def test_lerp_and_slerp_against_references():
    from scipy.spatial import geometric_slerp

    gen = torch.Generator().manual_seed(0)
    a, b = torch.randn(2, 16, generator=gen, dtype=torch.float64)
    t = torch.linspace(0, 1, 7, dtype=torch.float64)
    torch.testing.assert_close(gan.lerp(a, b, t), torch.stack([(1 - s) * a + s * b for s in t]))
    ua, ub = a / a.norm(), b / b.norm()
    ref = torch.from_numpy(geometric_slerp(ua.numpy(), ub.numpy(), t.numpy()))
    torch.testing.assert_close(gan.slerp(ua, ub, t), ref)
    # equal norms stay equal along the path; lerp's dip in the middle
    c = b / b.norm() * a.norm()
    norms = gan.slerp(a, c, t).norm(dim=1)
    torch.testing.assert_close(norms, torch.full_like(norms, a.norm().item()))
    assert gan.lerp(a, c, 0.5).norm() < 0.9 * a.norm()
    torch.testing.assert_close(gan.slerp(a, 2 * a, t), gan.lerp(a, 2 * a, t))  # parallel: lerp
    path = gan.interpolate(a, b, 5, "slerp")
    torch.testing.assert_close(path[0], a)
    torch.testing.assert_close(path[-1], b)
    with pytest.raises(ValueError, match="method"):
        gan.interpolate(a, b, 5, "cubic")
    with pytest.raises(ValueError, match="at least 2"):
        gan.interpolate(a, b, 1)
    with pytest.raises(ValueError, match="same length"):
        gan.slerp(a, b[:3], 0.5)


def test_ink_and_slant_of_drawn_strokes():
    img = torch.zeros(3, 1, 28, 28)              # pixels in [0, 1]: black background
    for r in range(6, 22):
        img[0, 0, r, 14] = 1                    # upright bar
        img[1, 0, r, 14 + (21 - r) // 2] = 1    # leans right: 1 pixel right per 2 pixels up
        img[2, 0, r, 14 - (21 - r) // 2] = 1    # leans left
    s = gan.slant(img)
    assert s[0].abs() < 1e-6
    assert s[1] == pytest.approx(0.5, abs=0.05) and s[2] == pytest.approx(-0.5, abs=0.05)
    torch.testing.assert_close(gan.ink(img), torch.full((3,), 16 / 784))


def test_attribute_direction_and_moves():
    z = torch.arange(20, dtype=torch.float32)[:, None].repeat(1, 3)
    scores = -torch.arange(20.0)
    d = gan.attribute_direction(z, scores, fraction=0.1)  # top: z 0,1; bottom: z 18,19
    torch.testing.assert_close(d, torch.full((3,), 0.5 - 18.5))
    dirs = {"a": torch.ones(3), "b": torch.arange(3.0)}
    moved = gan.move_along(torch.zeros(2, 3), dirs, {"a": 2.0, "b": -1.0})
    torch.testing.assert_close(moved, torch.tensor([[2.0, 1.0, 0.0]] * 2))
    with pytest.raises(KeyError, match="known: a"):
        gan.move_along(torch.zeros(3), {"a": torch.ones(3)}, {"c": 1.0})
    with pytest.raises(ValueError, match="fraction"):
        gan.attribute_direction(z, scores, fraction=0.6)
    # within groups: the mean of the per-group differences, here z 0 - z 9 and z 10 - z 19
    groups = (torch.arange(20) >= 10).long()
    torch.testing.assert_close(gan.attribute_direction(z, scores, 0.1, groups=groups), torch.full((3,), -9.0))
    with pytest.raises(ValueError, match="one group per latent"):
        gan.attribute_direction(z, scores, 0.1, groups=groups[:5])
