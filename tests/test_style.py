import io

import pytest
import torch
from PIL import Image

from gancourse import data
from gancourse.config.style import CONTENT_LAYERS, STYLE_LAYERS, VGG19_LAYERS, StyleConfig
from gancourse.style import color, images, losses, transfer, vgg


@pytest.fixture(scope="module")
def extractor():
    """Random-weight VGG19 up to conv5_2: no download is ever attempted in the tests."""
    return vgg.vgg19_features(VGG19_LAYERS[:14], pooling="avg", weights="random", seed=0)


def small(**changes):
    return StyleConfig(image_size=32, steps=6, normalize_losses=True, style_weight=10.0).replace(**changes)


def pictures(size=32):
    g = torch.Generator().manual_seed(1)
    return torch.rand(1, 3, size, size, generator=g), torch.rand(1, 3, size, size, generator=g)


# --------------------------------------------------------------------------------------
# Gram matrix and losses
# --------------------------------------------------------------------------------------


def test_gram_matrix_matches_the_definition():
    f = torch.randn(2, 3, 4, 5, dtype=torch.float64)
    g = losses.gram_matrix(f)
    assert g.shape == (2, 3, 3)
    b, c, h, w = f.shape
    expected = torch.zeros(b, c, c, dtype=torch.float64)
    for n in range(b):
        for i in range(c):
            for j in range(c):
                expected[n, i, j] = (f[n, i] * f[n, j]).sum() / (c * h * w)
    assert torch.allclose(g, expected)
    assert torch.allclose(g, torch.einsum("bihw,bjhw->bij", f, f) / (c * h * w))
    assert torch.allclose(g, g.transpose(1, 2))  # symmetric


def test_gram_matrix_gradcheck_and_shape_error():
    f = torch.randn(1, 3, 2, 3, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(losses.gram_matrix, (f,))
    with pytest.raises(ValueError, match=r"\(B, C, H, W\)"):
        losses.gram_matrix(torch.randn(3, 4, 5))


@pytest.mark.parametrize("normalize", [False, True])
def test_losses_zero_for_identical_inputs_positive_otherwise(normalize):
    a, b = torch.rand(1, 4, 6, 6), torch.rand(1, 4, 6, 6)
    feats_a, feats_b = {"l": a}, {"l": b}
    assert losses.content_loss(feats_a, {"l": a.clone()}, normalize) == 0
    assert losses.content_loss(feats_a, feats_b, normalize) > 0
    gram_a = losses.gram_matrix(a)
    assert losses.style_loss(feats_a, {"l": gram_a}, {"l": 1.0}, normalize) == 0
    assert losses.style_loss(feats_b, {"l": gram_a}, {"l": 1.0}, normalize) > 0
    assert losses.total_variation(torch.full((1, 3, 5, 5), 0.3)) == 0
    assert losses.total_variation(a) > 0


def test_total_variation_closed_form():
    x = torch.tensor([[[[0.0, 1.0], [2.0, 4.0]]]])  # (1, 1, 2, 2)
    # vertical differences 2, 3 -> mean square 6.5; horizontal 1, 2 -> 2.5
    assert losses.total_variation(x).item() == pytest.approx(9.0)


def test_style_loss_weights_layers_and_normalises_by_target():
    a, b = torch.rand(1, 2, 3, 3), torch.rand(1, 2, 3, 3)
    ga, gb = losses.gram_matrix(a), losses.gram_matrix(b)
    one = losses.style_loss({"l": a}, {"l": gb}, {"l": 1.0})
    assert losses.style_loss({"l": a}, {"l": gb}, {"l": 0.25}) == pytest.approx(0.25 * one.item())
    assert one.item() == pytest.approx(((ga - gb) ** 2).mean().item())
    relative = losses.style_loss({"l": a}, {"l": gb}, {"l": 1.0}, normalize=True)
    assert relative.item() == pytest.approx(one.item() / (gb**2).mean().item(), rel=1e-5)


# --------------------------------------------------------------------------------------
# VGG19 feature taps and weights
# --------------------------------------------------------------------------------------


def test_feature_taps_have_the_right_shapes(extractor):
    feats = extractor(torch.rand(2, 3, 64, 64), VGG19_LAYERS[:14])
    channels = {"1": 64, "2": 128, "3": 256, "4": 512, "5": 512}
    for name, f in feats.items():
        block = name[4]
        side = 64 // 2 ** (int(block) - 1)
        assert f.shape == (2, channels[block], side, side), name
        assert f.min() >= 0  # taken after the ReLU


def test_extractor_is_truncated_frozen_and_stops_early():
    shallow = vgg.VGGFeatures(["conv2_1", "conv1_1"], weights="random")
    assert len(shallow.features) == 7  # conv, relu, conv, relu, pool, conv, relu
    assert not any(p.requires_grad for p in shallow.parameters())
    out = shallow(torch.rand(1, 3, 16, 16), ["conv1_1"])
    assert list(out) == ["conv1_1"] and out["conv1_1"].shape == (1, 64, 16, 16)
    with pytest.raises(KeyError):
        shallow(torch.rand(1, 3, 16, 16), ["conv3_1"])
    with pytest.raises(ValueError, match="conv9_9"):
        vgg.VGGFeatures(["conv9_9"])


def test_avg_pooling_replaces_every_max_pool(extractor):
    max_net = vgg.VGGFeatures(STYLE_LAYERS, pooling="max", weights="random")
    avg_net = vgg.VGGFeatures(STYLE_LAYERS, pooling="avg", weights="random")
    kinds = lambda net: [type(m).__name__ for m in net.features if "Pool" in type(m).__name__]  # noqa: E731
    assert kinds(max_net) == ["MaxPool2d"] * 4 and kinds(avg_net) == ["AvgPool2d"] * 4
    twin = extractor.with_pooling("max")
    assert kinds(twin) == ["MaxPool2d"] * 4 and twin.weights == extractor.weights
    assert torch.equal(twin.features[0].weight, extractor.features[0].weight)  # same filters


def test_random_weights_are_seeded():
    a = vgg.VGGFeatures(["conv1_1"], weights="random", seed=3)
    b = vgg.VGGFeatures(["conv1_1"], weights="random", seed=3)
    c = vgg.VGGFeatures(["conv1_1"], weights="random", seed=4)
    assert torch.equal(a.features[0].weight, b.features[0].weight)
    assert not torch.equal(a.features[0].weight, c.features[0].weight)


def test_random_weights_switch_to_relative_style_errors_and_imagenet_weights_keep_the_config():
    cfg = StyleConfig()
    random_net = vgg.VGGFeatures(["conv1_1"], weights="random", seed=0)
    adjusted = transfer.settings_for_weights(cfg, random_net)
    assert (adjusted.normalize_losses, adjusted.style_weight) == (True, 10.0)
    assert adjusted.replace(normalize_losses=cfg.normalize_losses, style_weight=cfg.style_weight) == cfg  # nothing else
    random_net.weights = "imagenet"  # the label is all the policy reads
    assert transfer.settings_for_weights(cfg, random_net) is cfg


def test_failed_download_says_so_and_uses_random_weights(monkeypatch, capsys):
    def offline():
        raise OSError("no network")

    monkeypatch.setattr(vgg, "_imagenet_state_dict", offline)
    net = vgg.vgg19_features(["conv1_1"], weights="imagenet")
    out = capsys.readouterr().out
    assert net.weights == "random" and vgg.weights_label(net) == "random VGG19"
    assert "pretrained VGG19 weights could not be loaded (OSError: no network)" in out
    assert "RANDOM weights" in out and "Ustyuzhaninov" in out
    # offline: which file, from where, put where, with which hash
    assert "https://download.pytorch.org/models/vgg19-dcbb9e9d.pth" in out
    assert f"put it at {vgg.cached_weights_path()}" in out and "sha256 begins with dcbb9e9d" in out


def test_loaded_weights_are_used_and_labelled(monkeypatch):
    source = vgg.VGGFeatures(VGG19_LAYERS, weights="random", seed=7)
    state = {f"features.{k}": v for k, v in source.features.state_dict().items()}
    state["classifier.0.weight"] = torch.zeros(1)  # ignored: only the convolutions are used
    monkeypatch.setattr(vgg, "_imagenet_state_dict", lambda: state)
    net = vgg.vgg19_features(["conv2_1"], weights="imagenet", verbose=False)
    assert net.weights == "imagenet" and vgg.weights_label(net) == "ImageNet VGG19"
    assert torch.equal(net.features[5].weight, source.features[5].weight)


# --------------------------------------------------------------------------------------
# The optimisation
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("optimizer", ["lbfgs", "adam"])
@pytest.mark.parametrize("init", ["content", "noise"])
def test_a_few_steps_lower_the_total_loss(extractor, optimizer, init):
    content, painting = pictures()
    cfg = small(optimizer=optimizer, init=init, lr=0.05, tv_weight=0.1)
    run = transfer.stylize(content, painting, cfg, extractor, snapshots=(0, 3, 6))
    total = run.losses["total"]
    assert len(total) == cfg.steps + 1 and total[-1] < total[0]
    assert run.image.shape == (1, 3, 32, 32) and 0 <= run.image.min() and run.image.max() <= 1
    assert sorted(run.snapshots) == [0, 3, 6] and run.weights == "random"
    assert run.steps_per_second > 0


def test_preserve_color_keeps_the_content_chrominance(extractor):
    content, painting = pictures()
    run = transfer.stylize(content, painting, small(preserve_color=True), extractor)
    assert run.image.shape == (1, 3, 32, 32)
    iq_out, iq_in = color.rgb_to_yiq(run.image)[:, 1:], color.rgb_to_yiq(content)[:, 1:]
    inside = ((color.with_content_colors(color.luminance(run.image), content) > 0.01) & (run.image < 0.99)).all(1)
    assert torch.allclose(iq_out[:, :, inside[0]], iq_in[:, :, inside[0]], atol=1e-4)  # away from clamping


def test_yiq_round_trip():
    x = torch.rand(2, 3, 4, 4)
    assert torch.allclose(color.yiq_to_rgb(color.rgb_to_yiq(x)), x, atol=1e-5)


def test_blend_zero_is_the_first_style_alone(extractor):
    content, painting = pictures()
    other = torch.rand(1, 3, 32, 32)
    one = transfer.stylize(content, painting, small(steps=2), extractor)
    blended = transfer.stylize(content, [painting, other], small(steps=2, style_blend=0.0), extractor)
    assert blended.losses["total"] == pytest.approx(one.losses["total"], rel=1e-5)
    with pytest.raises(ValueError, match="one or two style images"):
        transfer.stylize(content, [painting] * 3, small(), extractor)


def test_reconstructions_match_one_representation(extractor):
    content, painting = pictures()
    run = transfer.reconstruct_content(content, "conv2_2", small(steps=5), extractor)
    assert run.losses["style"][0] == 0 and run.losses["content"][-1] < run.losses["content"][0]
    run = transfer.reconstruct_style(painting, STYLE_LAYERS[:2], small(steps=5), extractor)
    assert run.losses["content"][0] == 0 and run.losses["style"][-1] < run.losses["style"][0]


def test_inputs_are_checked(extractor):
    content, painting = pictures()
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        transfer.stylize(content * 2 - 1, painting, small(), extractor)
    with pytest.raises(ValueError, match="content is None"):
        transfer.stylize(None, painting, small(), extractor)
    shallow = vgg.VGGFeatures(["conv1_1"], weights="random")
    with pytest.raises(ValueError, match="needs conv"):
        transfer.stylize(content, painting, small(), shallow)


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
@pytest.mark.parametrize("where", ["content", "style"])
def test_non_finite_images_are_refused(extractor, bad, where):
    content, painting = pictures()
    images_in = {"content": content.clone(), "style": painting.clone()}
    images_in[where][0, 1, 3, 4] = bad
    with pytest.raises(ValueError, match=f"{where} holds 1 NaN or infinite value"):
        transfer.stylize(images_in["content"], images_in["style"], small(), extractor)
    with pytest.raises(ValueError, match=r"style\[1\] holds 1 NaN"):
        transfer.stylize(content, [painting, images_in[where]], small(), extractor)


def test_corrupt_cached_weights_name_the_file_to_delete(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    cached = vgg.cached_weights_path()
    assert cached.parent == tmp_path / "hub" / "checkpoints"
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"half a download")
    with pytest.raises(vgg.CorruptWeights, match=f"{cached}.*delete that file"):
        vgg.vgg19_features(["conv1_1"], weights="imagenet")
    assert "RANDOM" not in capsys.readouterr().out  # no silent fallback to random weights


def test_offline_never_tries_the_download_and_says_why(tmp_path, monkeypatch, capsys):
    from torchvision.models import VGG19_Weights

    def download(*args, **kwargs):
        raise AssertionError("a download was tried with $GANCOURSE_OFFLINE=1")

    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    monkeypatch.setenv("GANCOURSE_OFFLINE", "1")
    monkeypatch.setattr(type(VGG19_Weights.IMAGENET1K_V1), "get_state_dict", download)
    net = vgg.vgg19_features(["conv1_1"], weights="imagenet")
    out = capsys.readouterr().out
    assert net.weights == "random"
    assert f"downloads are off ($GANCOURSE_OFFLINE) and {vgg.cached_weights_path()} does not exist" in out


# --------------------------------------------------------------------------------------
# Images
# --------------------------------------------------------------------------------------


def test_missing_and_corrupt_files_raise_data_error(tmp_path):
    with pytest.raises(data.DataError, match="does not exist"):
        images.load_style_image(tmp_path / "nope.jpg", 32)
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"\xff\xd8\xff\xe0 this is not really a jpeg")
    with pytest.raises(data.DataError, match="bad.jpg is not a readable image"):
        images.load_style_image(bad, 32)


@pytest.mark.parametrize("mode, word", [("RGBA", "RGBA"), ("L", "greyscale"), ("P", "palette")])
def test_non_rgb_images_are_converted_with_a_message(tmp_path, capsys, mode, word):
    path = tmp_path / f"img_{mode}.png"
    Image.new(mode, (40, 30)).save(path)
    x = images.load_style_image(path, 24)
    assert x.shape == (1, 3, 24, 24) and x.dtype == torch.float32
    assert f"img_{mode}.png: {word} image converted to RGB" in capsys.readouterr().out


def test_huge_images_are_shrunk_with_a_message(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(images, "MAX_SIDE", 64)
    path = tmp_path / "wide.png"
    Image.new("RGB", (200, 50), (255, 0, 0)).save(path)
    x = images.load_style_image(path, 16)
    assert "wide.png: 200x50 pixels is huge; shrunk to 64x16 first" in capsys.readouterr().out
    assert x.shape == (1, 3, 16, 16) and torch.allclose(x[0, 0], torch.ones(16, 16))


def test_decompression_bombs_raise_data_error(tmp_path, monkeypatch):
    path = tmp_path / "bomb.png"
    Image.new("RGB", (100, 100)).save(path)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)  # PIL refuses images over twice this
    with pytest.raises(data.DataError, match="bomb.png is too large to open safely"):
        images.load_style_image(path, 16)


def test_square_crops_the_centre():
    x = torch.zeros(1, 3, 10, 20)
    x[..., 5:15] = 1.0  # the middle half of the width
    out = images.square(x, 10)
    assert out.shape == (1, 3, 10, 10) and out.min() == 1.0


def test_keep_aspect_keeps_the_whole_photo_and_the_output_takes_its_shape(extractor, tmp_path):
    wide = torch.zeros(1, 3, 20, 40)
    wide[..., :, :5] = 1.0  # the left edge: a centre square would cut it off
    fitted = images.fit_longer_side(wide, 32)
    assert fitted.shape == (1, 3, 16, 32) and fitted[..., :2].min() > 0.9
    assert images.fit_longer_side(torch.zeros(1, 3, 4, 400), 64).shape == (1, 3, 16, 64)  # short side >= 16
    photo = tmp_path / "pagoda.png"
    Image.new("RGB", (30, 60), (200, 10, 10)).save(photo)  # portrait, as a pagoda
    assert images.load_style_image(photo, 32, keep_aspect=True).shape == (1, 3, 32, 16)
    assert images.load_style_image(photo, 32).shape == (1, 3, 32, 32)
    _, painting = pictures()
    for init in ("content", "noise"):
        run = transfer.stylize(torch.rand(1, 3, 24, 48), painting, small(keep_aspect=True, init=init), extractor)
        assert run.image.shape == (1, 3, 16, 32)
    assert StyleConfig().keep_aspect is False  # the chapter's figures are squares


def test_missing_images_fail_before_vgg_is_loaded(tmp_path, monkeypatch):
    loaded = []
    monkeypatch.setattr(transfer, "matching_extractor", lambda *a, **kw: loaded.append(1))
    _, painting = pictures()
    with pytest.raises(data.DataError, match="does not exist"):
        transfer.stylize(tmp_path / "no-such-photo.jpg", painting, small())
    with pytest.raises(data.DataError, match="does not exist"):
        transfer.stylize(painting, [painting, tmp_path / "no-such-painting.jpg"], small())
    assert loaded == []


def test_urls_are_downloaded_once_and_failures_are_clear(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    buffer = io.BytesIO()
    Image.new("RGB", (20, 20), (0, 0, 255)).save(buffer, format="PNG")
    calls = []

    def fake_urlopen(url, timeout):
        calls.append(url)
        return io.BytesIO(buffer.getvalue())

    monkeypatch.setattr(images.urllib.request, "urlopen", fake_urlopen)
    url = "https://example.org/art/blue.png"
    for _ in range(2):
        x = images.load_style_image(url, 8)
        assert x.shape == (1, 3, 8, 8) and x[0, 2].min() == pytest.approx(1.0)
    assert calls == [url]  # cached after the first time

    def offline(url, timeout):
        raise OSError("no route to host")

    monkeypatch.setattr(images.urllib.request, "urlopen", offline)
    with pytest.raises(data.DataError, match=r"could not download https://example.org/x.jpg .*no route to host"):
        images.load_style_image("https://example.org/x.jpg", 8)


def test_book_images_from_the_data_root_or_shipped(tmp_path, capsys):
    shipped = images.book_images(tmp_path)
    assert "No paintings under" in capsys.readouterr().out
    assert shipped.contents and shipped.styles
    assert all(p.is_file() for p in [*shipped.contents.values(), *shipped.styles.values()])
    folder = tmp_path / "style"
    folder.mkdir()
    for name in ("tubingen", "starry_night"):
        Image.new("RGB", (8, 8)).save(folder / f"{name}.jpg")
    ours = images.book_images(tmp_path)
    assert list(ours.contents) == ["tubingen"] and list(ours.styles) == ["starry_night"]
    assert "van Gogh" in ours.captions["starry_night"]


# --------------------------------------------------------------------------------------
# Config
# --------------------------------------------------------------------------------------


def test_defaults_follow_the_paper_and_quick_mode_shrinks():
    cfg = StyleConfig()
    assert cfg.style_layers == STYLE_LAYERS and cfg.content_layers == CONTENT_LAYERS == ("conv4_2",)
    assert cfg.optimizer == "lbfgs" and cfg.pooling == "avg" and cfg.image_size == 512 and cfg.steps >= 300
    assert cfg.layer_weights() == {layer: 0.2 for layer in STYLE_LAYERS}
    quick = StyleConfig.for_mode("quick")
    assert quick.image_size == 128 and quick.steps < 100
    weighted = cfg.replace(style_layers=("conv1_1", "conv2_1"), style_layer_weights=(0.7, 0.3))
    assert weighted.layer_weights() == {"conv1_1": 0.7, "conv2_1": 0.3}


@pytest.mark.parametrize(
    "changes, message",
    [
        (
            {"style_layers": ("conv1_1", "conv6_1")},
            r"StyleConfig.style_layers = .* unknown layer\(s\) 'conv6_1': allowed conv1_1, conv1_2",
        ),
        ({"content_layers": ("relu4_2",)}, r"StyleConfig.content_layers = .* 'relu4_2'"),
        ({"style_layers": ("conv1_1", "conv1_1")}, r"StyleConfig.style_layers .* names a layer twice"),
        ({"style_layers": (), "content_layers": ()}, r"both empty"),
        (
            {"style_layer_weights": (1.0, 2.0)},
            r"StyleConfig.style_layer_weights .* has 2 entries but style_layers has 5",
        ),
        ({"optimizer": "sgd"}, r"StyleConfig.optimizer = 'sgd' is not allowed: choose one of 'lbfgs', 'adam'"),
        ({"init": "style"}, r"StyleConfig.init = 'style' is not allowed"),
        ({"pooling": "min"}, r"StyleConfig.pooling = 'min' is not allowed"),
        ({"image_size": 8}, r"StyleConfig.image_size = 8 is out of range"),
        ({"style_weight": -1.0}, r"StyleConfig.style_weight = -1.0 is out of range"),
        ({"style_blend": 1.5}, r"StyleConfig.style_blend = 1.5 is out of range"),
        ({"preserve_color": "yes"}, r"StyleConfig.preserve_color = 'yes' must be a bool"),
        ({"style_layers": "conv1_1"}, r"StyleConfig.style_layers = 'conv1_1' must be a tuple"),
    ],
)
def test_bad_config_values_name_the_field(changes, message):
    with pytest.raises(ValueError, match=message):
        StyleConfig().replace(**changes)


def test_a_diverging_optimisation_raises_instead_of_returning_nan(extractor, monkeypatch):
    content, painting = pictures()
    calls = {"n": 0}
    real_tv = transfer.total_variation

    def exploding(image):
        calls["n"] += 1
        return real_tv(image) * (float("nan") if calls["n"] >= 3 else 1.0)

    monkeypatch.setattr(transfer, "total_variation", exploding)
    with pytest.raises(transfer.StyleDiverged, match=r"style transfer diverged at step \d+: total = nan, tv = nan"):
        transfer.stylize(content, painting, small(tv_weight=1.0), extractor)
