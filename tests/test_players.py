import re
from types import SimpleNamespace

import matplotlib.pyplot as plt
import pytest
import torch

from gancourse import players, viz


def line(value):
    fig, ax = plt.subplots(figsize=(2, 1.5))
    ax.plot([0, 1], [0, value])
    ax.set_ylim(-1, 1)
    return fig


def test_one_image_per_frame_and_only_the_start_frame_visible():
    p = players.player([-1.0, 0.0, 1.0], line, labels=["a", "b", "c"], title="demo", start=1)
    page = p._repr_html_()
    frames = re.findall(
        r'<img class="gcp-frame" src="data:image/png;base64,[^"]+" alt="([^"]*)" data-label="([^"]*)" '
        r'style="display:(\w+)',
        page,
    )
    assert [(label, shown) for _, label, shown in frames] == [("a", "none"), ("b", "block"), ("c", "none")]
    # the alt text says what the frame shows, beyond the slider's label
    assert all(alt.startswith(f"demo, {label}: Figure") for alt, label, _ in frames), frames
    assert 'max="2"' in page and 'value="1"' in page and ">b</output>" in page
    assert "<script" not in page  # inline handlers only: works where HTML is inserted as innerHTML
    assert len({f.data for f in p.frames}) == 3  # three different pictures


def test_figures_are_closed_after_encoding():
    before = len(plt.get_fignums())
    players.player([0.1, 0.2], line)
    assert len(plt.get_fignums()) == before


def test_evenly_keeps_first_and_last():
    assert players.evenly(5, 10) == [0, 1, 2, 3, 4]
    assert players.evenly(100, 5) == [0, 25, 50, 74, 99]
    with pytest.raises(ValueError, match="k = 1"):
        players.evenly(5, 1)


def test_many_items_are_thinned_and_labelled():
    p = players.player(list(range(40)), lambda v: line(v / 40), labels=[f"step {i}" for i in range(40)], max_frames=5)
    assert p.labels == ["step 0", "step 10", "step 20", "step 29", "step 39"]
    assert p.start == 4  # default: the last frame


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="items is empty"):
        players.player([], line)
    with pytest.raises(ValueError, match="labels has 1 entries for 2 items"):
        players.player([0, 1], line, labels=["x"])
    with pytest.raises(TypeError, match="must return a matplotlib Figure"):
        players.player([0], lambda v: None)
    with pytest.raises(ValueError, match="over max_kb = 1"):
        players.player([0.5, 0.6], line, max_kb=1)
    with pytest.raises(ValueError, match="start = 3"):
        players.Player([players.Frame(b"x", "image/png", "a")], start=3)


def test_photographs_become_jpeg_and_stay_small():
    smooth = torch.nn.functional.interpolate(torch.rand(1, 3, 8, 8), size=256, mode="bicubic", align_corners=False)
    photo = (smooth + 0.05 * torch.randn(1, 3, 256, 256)).clamp(0, 1)  # smooth colours and a little grain
    p = players.player([photo], lambda img: viz.show_images(img, nrow=1, value_range=(0, 1), size=6), dpi=72)
    assert p.frames[0].mime == "image/jpeg"
    assert p.nbytes < 300_000


def test_training_player_labels_steps():
    samples = [(step, torch.rand(16, 1, 8, 8) * 2 - 1) for step in (0, 50, 100)]
    p = players.training_player(SimpleNamespace(samples=samples))
    assert p.labels == ["step 0 of 100", "step 50 of 100", "step 100 of 100"]
    with pytest.raises(ValueError, match="trainer.samples is empty"):
        players.training_player(SimpleNamespace(samples=[]))


def test_latent_walk_starts_and_ends_at_the_given_points():
    seen = []

    def generate(z):  # a "generator" that records its input and draws it as an image
        seen.append(z.clone())
        return z.view(len(z), 1, 2, 2).tanh()

    start, end = torch.randn(3, 4), torch.randn(3, 4)
    p = players.latent_walk_player(generate, start, end, steps=5)
    assert p.labels == ["t = 0.00", "t = 0.25", "t = 0.50", "t = 0.75", "t = 1.00"] and p.start == 0
    torch.testing.assert_close(seen[0], start)
    torch.testing.assert_close(seen[-1], end)
    norms = torch.stack([z.norm(dim=1) for z in seen])  # slerp between equal-norm points keeps the norm
    assert torch.all(norms.min(0).values > 0.5 * torch.minimum(start.norm(dim=1), end.norm(dim=1)))
    with pytest.raises(ValueError, match="must be \\(N, d\\)"):
        players.latent_walk_player(generate, start, end[:2])


@pytest.mark.parametrize(
    "mime", ['image/png" onerror="alert(1)', "text/html", "image/png;base64,AAAA", "IMAGE/PNG ", None]
)
def test_a_frame_mime_that_is_not_an_image_type_is_refused(mime):
    with pytest.raises(ValueError, match="mime = .* is not allowed: an image MIME type"):
        players.Frame(b"\x89PNG", mime, "a")


def test_every_value_a_player_writes_into_html_is_escaped_or_checked():
    quote = '"><img src=x onerror="alert(1)'
    page = players.Player([players.Frame(b"png", "image/svg+xml", quote)], title=quote)._repr_html_()
    assert page.count("<img") == 1 and page.count('onerror="') == 0  # no tag or attribute injected
    assert '"><img src=x' not in page and "&quot;&gt;&lt;img src=x onerror=&quot;alert(1)" in page
    assert 'src="data:image/svg+xml;base64,' in page
    with pytest.raises(ValueError, match="label must be a str"):
        players.Frame(b"png", "image/png", None)
    with pytest.raises(ValueError, match="frames must be Frame objects"):
        players.Player([SimpleNamespace(data=b"", mime='x" onerror="y', label="a")])


@pytest.mark.parametrize("interval", [float("nan"), float("inf"), 10, "700", True])
def test_a_bad_interval_is_refused_naming_it(interval):
    frame = players.Frame(b"png", "image/png", "a")
    with pytest.raises(ValueError, match="interval_ms = .* is out of range"):
        players.Player([frame], interval_ms=interval)
