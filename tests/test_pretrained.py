"""Tests of gancourse.pretrained: registry, export -> sha256 -> load, refusals, downloads, the shipped models."""

from __future__ import annotations

import copy
import dataclasses
import json
import os
import shutil
from pathlib import Path

import pytest
import torch

from gancourse.config import ClassifierConfig, Pix2PixConfig, ProGANConfig, ToyGANConfig
from gancourse.data import DataError
from gancourse.metrics import TrainedClassifier
from gancourse.models.classifier import DomainClassifier
from gancourse.pretrained import files, reference, registry, scores
from gancourse.pretrained.__main__ import main
from gancourse.pretrained.registry import REFERENCES, Reference
from gancourse.train.loop import GANTrainer
from gancourse.train.recipes import RECIPES

SHARED = Path(__file__).resolve().parent.parent.parent / "shared" / "data"  # as in conftest.py
TINY_TOY = Reference(
    name="tiny_toy",
    recipe="toy_gan",
    config_class=ToyGANConfig,
    overrides={"steps": 20, "hidden": 16, "batch_size": 64},
    description="a tiny toy run for the tests",
    paper_differences="none: a test",
)


def _ship_into(patch: pytest.MonkeyPatch, folder: Path) -> None:
    """Point the package's weights folder and manifest at ``folder`` and register the tiny toy run."""
    patch.setattr(files, "WEIGHTS_DIR", folder / "weights")
    patch.setattr(files, "MANIFEST_PATH", folder / "manifest.json")
    patch.setattr(files, "FEATURES_DIR", folder / "features")
    patch.setitem(REFERENCES, TINY_TOY.name, TINY_TOY)


@pytest.fixture
def shipped(tmp_path, monkeypatch):
    """An empty weights folder and manifest in tmp_path, and the tiny toy run registered."""
    _ship_into(monkeypatch, tmp_path)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield tmp_path
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def trained_toy_once(tmp_path_factory):
    """The tiny toy run trained, exported, scored and recorded once per session, in a folder of its own."""
    folder = tmp_path_factory.mktemp("trained_toy")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with pytest.MonkeyPatch.context() as patch:
            _ship_into(patch, folder)
            record = reference.train(TINY_TOY.name, progress=False, directory=folder / "checkpoints")
    finally:
        torch.set_num_threads(threads)
    return folder, record


@pytest.fixture
def trained_toy(shipped, trained_toy_once):
    """The session's trained tiny toy run, copied into this test's tmp_path (tests tamper with the files).

    Each test gets its own weights, manifest, checkpoints and record, as if it had trained the run
    itself: what one test changes (a flipped byte, an edited score, a second session) no other sees.
    """
    folder, record = trained_toy_once
    shutil.copytree(folder, shipped, dirs_exist_ok=True)
    return shipped, copy.deepcopy(record)


# --------------------------------------------------------------------------------------
# The registry
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(REFERENCES))
def test_registry_entry_builds_its_config(name):
    ref = REFERENCES[name]
    cfg = ref.config()  # every override names a field and passes the config's range checks
    assert type(cfg) is ref.config_class
    assert isinstance(cfg, RECIPES[ref.recipe].config)
    fields = {f.name for f in dataclasses.fields(cfg)}
    assert set(ref.overrides) <= fields
    for key, value in ref.overrides.items():
        assert getattr(cfg, key) == value
    assert "steps" in ref.overrides or isinstance(cfg, ProGANConfig)  # ProGAN's steps come from its schedule
    assert ref.description and ref.paper_differences
    assert ref.command == f"python -m gancourse.pretrained train {name}"
    json.dumps(dict(ref.overrides))  # recorded in the manifest as it stands


def test_registry_refuses_a_wrong_recipe_or_config():
    with pytest.raises(ValueError, match="'dcgan2' is not a recipe"):
        Reference("x", "dcgan2", ToyGANConfig, {}, "d", "p")
    with pytest.raises(ValueError, match="takes a ToyGANConfig, not a Pix2PixConfig"):
        Reference("x", "toy_gan", Pix2PixConfig, {}, "d", "p")
    with pytest.raises(ValueError, match="ToyGANConfig has no field stepz"):
        Reference("x", "toy_gan", ToyGANConfig, {"stepz": 3}, "d", "p").config()
    with pytest.raises(TypeError):
        TINY_TOY.overrides["steps"] = 3  # read-only: the registry is edited in its file, not at run time


# --------------------------------------------------------------------------------------
# Train -> export -> sha256 -> load
# --------------------------------------------------------------------------------------


def test_train_exports_fp16_and_records_the_manifest(trained_toy):
    tmp, record = trained_toy
    path = files.WEIGHTS_DIR / "tiny_toy.pt"
    manifest = json.loads(files.MANIFEST_PATH.read_text())
    assert manifest["models"]["tiny_toy"] == record
    assert files.MANIFEST_PATH.read_text() == files.manifest_text(manifest)  # sorted keys, as committed
    assert record["sha256"] == files.sha256_file(path) and record["bytes"] == path.stat().st_size
    assert path.stat().st_mode & 0o777 == 0o644 and files.MANIFEST_PATH.stat().st_mode & 0o777 == 0o644  # shipped
    assert record["config_class"] == "ToyGANConfig" and record["config"]["steps"] == 20
    assert record["provenance"]["torch_threads"] >= 1 and record["provenance"]["steps"] == 20
    assert set(record["provenance"]) >= {"date_utc", "torch", "python", "device", "wall_time_s", "git_commit"}
    assert record["averaged"] is False and record["metrics"]["main"] == "generator"
    assert (
        record["check"]["values"]["modes_captured"] == record["metrics"]["by_n"]["2500"]["generator"]["modes_captured"]
    )
    state = torch.load(path, weights_only=True)
    tensors = {k: v for k, v in state.items() if isinstance(v, torch.Tensor)}
    assert tensors and all(t.dtype == torch.float16 for t in tensors.values() if t.is_floating_point())


def test_loaded_generator_holds_the_trained_weights_rounded_to_fp16(trained_toy):
    tmp, record = trained_toy
    cfg = TINY_TOY.config()
    trainer = RECIPES["toy_gan"].build(cfg, device=torch.device("cpu"))
    trainer.load(next((tmp / "checkpoints").glob("tiny_toy-*.pt")))
    loaded = reference.load("tiny_toy")
    for key, value in trainer.generator.state_dict().items():
        torch.testing.assert_close(loaded.state_dict()[key], value.half().float(), rtol=0, atol=0)
    a, b = reference.samples("tiny_toy", 50, seed=4), reference.samples("tiny_toy", 50, seed=4)
    assert torch.equal(a, b) and not torch.equal(a, reference.samples("tiny_toy", 50, seed=5))


def test_the_exported_average_has_batch_norm_statistics_of_its_own_weights(shipped, monkeypatch):
    """Not G's running statistics (computed for other weights): recomputed for the average, as it samples."""
    from gancourse.config import DCGANConfig

    tiny = Reference(
        name="tiny_dcgan",
        recipe="dcgan",
        config_class=DCGANConfig,
        overrides={"steps": 4, "base_channels": 8, "batch_size": 16, "ema_decay": 0.5, "data_limit": 256},
        description="a tiny averaged DCGAN for the tests",
        paper_differences="none: a test",
    )
    monkeypatch.setitem(REFERENCES, tiny.name, tiny)
    monkeypatch.setattr(scores, "measure", lambda recipe, cfg, generators, n, seed=0: {k: {} for k in generators})
    monkeypatch.setattr(scores, "ship_features", lambda dataset: None)
    reference.train(tiny.name, progress=False, directory=shipped / "checkpoints")
    plain, ema = files.split_state(files.read_weights(files.WEIGHTS_DIR / "tiny_dcgan.pt"))
    running = [k for k in ema if k.endswith("running_mean") or k.endswith("running_var")]
    assert running
    # independently: the averaged weights in a fresh G, statistics as the plain mean over the trainer's inputs
    cfg = tiny.config()
    trainer = RECIPES["dcgan"].build(cfg, device=torch.device("cpu"))
    fresh = RECIPES["dcgan"].build_generator(cfg)
    fresh.load_state_dict(ema)
    norms = [m for m in fresh.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None
    fresh.train()
    with torch.no_grad():
        for args in trainer.statistics_inputs():
            fresh(*args)
    for key in running:
        # (the export rounds to fp16 after the recomputation on fp32 weights; here it ran on the rounded weights)
        torch.testing.assert_close(ema[key].float(), fresh.state_dict()[key], rtol=2e-3, atol=2e-3)
        assert not torch.equal(ema[key], plain[key])  # G's own statistics are not the average's


def test_a_second_train_resumes_the_finished_run_and_exports_the_same_file(trained_toy, capsys):
    tmp, record = trained_toy
    again = reference.train("tiny_toy", progress=False, directory=tmp / "checkpoints")
    assert "loaded the finished run" in capsys.readouterr().out
    assert again["sha256"] == record["sha256"]
    assert again["provenance"]["sessions"] == 2


def test_an_interrupted_training_resumes_exactly(shipped, monkeypatch, capsys):
    ref = dataclasses.replace(TINY_TOY, overrides={**TINY_TOY.overrides, "checkpoint_every": 5})
    monkeypatch.setitem(REFERENCES, "tiny_toy", ref)
    original = GANTrainer.train_step

    def interrupted_at_12(self):
        if self.step == 12:
            raise KeyboardInterrupt
        return original(self)

    monkeypatch.setattr(GANTrainer, "train_step", interrupted_at_12)
    with pytest.raises(KeyboardInterrupt):
        reference.train("tiny_toy", progress=False, directory=shipped / "checkpoints")
    assert not (files.WEIGHTS_DIR / "tiny_toy.pt").exists()  # nothing exported from an unfinished run
    monkeypatch.setattr(GANTrainer, "train_step", original)
    record = reference.train("tiny_toy", progress=False, directory=shipped / "checkpoints")
    assert "resuming the interrupted run from step 10" in capsys.readouterr().out
    assert record["provenance"]["sessions"] == 2
    whole = reference.train("tiny_toy", progress=False, directory=shipped / "again", out=shipped / "whole")
    assert whole["sha256"] == record["sha256"]  # the same weights as an uninterrupted run


def test_show_labels_the_reference_run_and_its_provenance(trained_toy, capsys):
    figure = reference.show("tiny_toy")
    out = capsys.readouterr().out
    assert "tiny_toy: reference run (loaded, not retrained)" in out
    assert "threads" in out and "min wall time" in out and "real samples" in out
    assert figure.axes and "reference run (loaded, not retrained)" in figure.axes[0].get_title()


def test_summary_prints_the_manifests_mmd2_as_kid_times_1000_and_says_so():
    record = reference.entry("dcgan_mnist")
    score = next(iter(record["metrics"]["by_n"].values()))
    kid = score[record["metrics"]["main"]]["kid"][0]  # stored: the raw MMD^2
    text = reference.summary("dcgan_mnist")
    printed = float(text.split("KID x 10^3 ", 1)[1].split(" vs ")[0].replace(",", ""))
    assert printed == pytest.approx(1000 * kid, rel=5e-3), text  # 3 significant digits of 1000 x MMD^2


def test_a_readers_retraining_goes_to_a_folder_and_is_compared(trained_toy, monkeypatch, capsys):
    tmp, record = trained_toy
    monkeypatch.setattr(reference, "training_dir", lambda: tmp / "checkpoints")
    before = files.MANIFEST_PATH.read_text()
    assert main(["train", "tiny_toy", "--out", str(tmp / "mine"), "--no-progress"]) == 0
    assert "compared with the shipped reference: the same within the tolerance" in capsys.readouterr().out
    assert (tmp / "mine" / "tiny_toy.pt").is_file() and (tmp / "mine" / "manifest.json").is_file()
    assert files.MANIFEST_PATH.read_text() == before  # the package's manifest is left alone


def test_verify_passes_then_catches_a_changed_score(trained_toy, capsys):
    tmp, record = trained_toy
    assert all(v.ok for v in reference.verify())
    assert all(v.ok and v.values for v in reference.verify(samples_only=True))
    assert main(["verify"]) == 0
    manifest = json.loads(files.MANIFEST_PATH.read_text())
    manifest["models"]["tiny_toy"]["check"]["values"]["sample_std"] *= 1.05
    files.MANIFEST_PATH.write_text(files.manifest_text(manifest))
    (result,) = reference.verify()
    assert not result.ok and "sample_std" in result.problems[0] and "tolerance 2%" in result.problems[0]
    assert main(["verify", "tiny_toy"]) == 1
    assert "FAILED" in capsys.readouterr().err


def test_verify_reports_files_the_manifest_does_not_list(trained_toy):
    (files.WEIGHTS_DIR / "stray.pt").write_bytes(b"x")
    problems = [p for v in reference.verify() for p in v.problems]
    assert any("stray.pt" in p for p in problems)


def test_a_tampered_file_is_refused_with_both_hashes(trained_toy):
    tmp, record = trained_toy
    path = files.WEIGHTS_DIR / "tiny_toy.pt"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(files.WeightsError) as err:
        reference.load("tiny_toy")
    message = str(err.value)
    assert str(path) in message and record["sha256"] in message and files.sha256_file(path) in message
    assert not reference.verify()[0].ok


@pytest.mark.parametrize("recorded", [None, "absent", "abc"])
def test_a_manifest_entry_without_a_hash_is_refused_and_verify_reports_it(trained_toy, recorded):
    """A null, missing or malformed hash must not switch the check off: a tampered file would then load."""
    path = files.WEIGHTS_DIR / "tiny_toy.pt"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    manifest = json.loads(files.MANIFEST_PATH.read_text())
    if recorded == "absent":
        del manifest["models"]["tiny_toy"]["sha256"]
    else:
        manifest["models"]["tiny_toy"]["sha256"] = recorded
    files.MANIFEST_PATH.write_text(files.manifest_text(manifest))
    with pytest.raises(files.WeightsError, match="'tiny_toy' has sha256 = .*not the 64 hex digits"):
        reference.load("tiny_toy")
    (result,) = reference.verify()
    assert not result.ok and "sha256" in result.problems[0]


def test_an_upper_case_hash_in_the_manifest_is_the_same_hash(trained_toy):
    tmp, record = trained_toy
    manifest = json.loads(files.MANIFEST_PATH.read_text())
    manifest["models"]["tiny_toy"]["sha256"] = record["sha256"].upper()
    files.MANIFEST_PATH.write_text(files.manifest_text(manifest))
    reference.load("tiny_toy")
    assert all(v.ok for v in reference.verify(samples_only=True))
    files.read_weights(files.WEIGHTS_DIR / "tiny_toy.pt", record["sha256"].upper())


def test_unknown_and_unshipped_names(shipped):
    with pytest.raises(registry.UnknownReference, match="no reference run named 'dcgan_mnst': known are .*dcgan_mnist"):
        reference.load("dcgan_mnst")
    with pytest.raises(reference.NotShipped, match="python -m gancourse.pretrained train dcgan_mnist"):
        reference.load("dcgan_mnist")
    assert main(["train", "dcgan_mnst"]) == 2
    assert main(["verify"]) == 0  # nothing shipped: nothing to verify
    assert main(["list"]) == 0


def test_the_averaged_generator_is_exported_and_is_the_main_score(shipped, monkeypatch):
    """A trainer with ``generator_ema`` (the moving average of G): both are shipped, the average is scored first."""

    def with_average(name, cfg, build, **kwargs):
        trainer = build(cfg, device=torch.device("cpu"))
        trainer.train(progress=False)
        trainer.generator_ema = copy.deepcopy(trainer.generator)
        with torch.no_grad():
            for p in trainer.generator_ema.parameters():
                p.mul_(0.5)
        return trainer

    monkeypatch.setattr(reference, "load_or_train", with_average)
    record = reference.train("tiny_toy", progress=False, directory=shipped / "checkpoints")
    assert record["averaged"] is True and record["metrics"]["main"] == "averaged"
    assert record["check"]["generator"] == "averaged"
    assert set(record["metrics"]["by_n"]["2500"]) >= {"generator", "averaged", "floor"}
    state = files.read_weights(files.WEIGHTS_DIR / "tiny_toy.pt", record["sha256"])
    plain, averaged = files.split_state(state)
    assert averaged is not None and plain.keys() == averaged.keys()
    a, g = reference.load("tiny_toy"), reference.load("tiny_toy", averaged=False)
    first = next(iter(plain))
    torch.testing.assert_close(a.state_dict()[first], averaged[first].float())
    torch.testing.assert_close(g.state_dict()[first], plain[first].float())
    assert all(v.ok for v in reference.verify())


def test_the_scoring_classifier_is_shipped_once_and_checked(shipped, monkeypatch, capsys):
    """Every reference score on a data set uses one shipped (fp16) domain classifier, whatever the machine."""
    trained = TrainedClassifier(
        DomainClassifier(4, 8, 10).eval(), ClassifierConfig(channels=4, feature_dim=8), 0.5, 100, 1.0, "test data"
    )
    monkeypatch.setattr(scores, "load_or_train_classifier", lambda *args, **kwargs: trained)
    scores.ship_features("mnist")
    record = files.read_manifest()["features"]["mnist"]
    path = files.FEATURES_DIR / record["file"]
    assert record["sha256"] == files.sha256_file(path) and record["config_class"] == "ClassifierConfig"
    features = scores.domain_features("mnist")
    assert "shipped with gancourse.pretrained" in features.name
    for key, value in trained.model.state_dict().items():
        shipped_value = features.classifier.state_dict()[key]
        assert shipped_value.dtype == value.dtype
        torch.testing.assert_close(shipped_value, value.half().to(value.dtype), rtol=0, atol=0)
    scores.ship_features("mnist")  # already shipped: kept as it is
    assert files.read_manifest()["features"]["mnist"] == record
    assert scores.domain_features("folder") is None and scores.features_dataset("toy_gan", TINY_TOY.config()) is None
    assert "emoji" in scores.JUDGED  # the emoji judge of chapter 11 scores the emoji references
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(files.WeightsError, match="shipped feature extractor was altered"):
        scores.domain_features("mnist")
    manifest = json.loads(files.MANIFEST_PATH.read_text())
    manifest["features"]["mnist"]["sha256"] = None
    files.MANIFEST_PATH.write_text(files.manifest_text(manifest))
    with pytest.raises(files.WeightsError, match="mnist feature extractor has sha256 = None"):
        scores.domain_features("mnist")


# --------------------------------------------------------------------------------------
# Downloads by URL and sha256
# --------------------------------------------------------------------------------------


def test_load_from_url_checks_the_hash(tmp_path):
    state = {"weight": torch.arange(6.0).reshape(2, 3)}
    source = tmp_path / "published.pt"
    torch.save(state, source)
    good = files.sha256_file(source)
    cache = tmp_path / "cache"
    loaded = files.load_from_url(source.as_uri(), good, directory=cache)
    assert torch.equal(loaded["weight"], state["weight"]) and (cache / "published.pt").is_file()
    bad = "0" * 64
    with pytest.raises(DataError, match=f"sha256 is {good}, not the expected {bad}"):
        files.load_from_url(source.as_uri(), bad, file_name="other.pt", directory=cache)
    assert not (cache / "other.pt").exists()  # a file with the wrong hash is never kept
    upper = files.load_from_url(source.as_uri(), good.upper(), file_name="upper.pt", directory=cache)
    assert torch.equal(upper["weight"], state["weight"])
    again = files.load_from_url("file:///nonexistent/published.pt", good.upper(), directory=cache)  # the cached file
    assert torch.equal(again["weight"], state["weight"])
    with pytest.raises(ValueError, match="64 hex digits"):
        files.load_from_url(source.as_uri(), "abc", directory=cache)


def test_load_from_url_stops_a_trickling_server_at_its_deadline(tmp_path, monkeypatch):
    """A server sending a byte every 0.2 s never trips the per-read timeout; the deadline (1 s here) stops it."""
    import http.server
    import threading
    import time

    class Trickle(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Length", "100")
            self.end_headers()
            try:
                for _ in range(100):  # 20 s at most, whatever the client does
                    self.wfile.write(b"x")
                    self.wfile.flush()
                    time.sleep(0.2)
            except OSError:  # the client gave up
                pass

        def log_message(self, *args):
            pass

    monkeypatch.setenv("no_proxy", "127.0.0.1")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Trickle)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/slow.pt"
        start = time.monotonic()
        with pytest.raises(DataError, match=r"slow.pt: the download did not finish within its deadline of 1 s"):
            files.load_from_url(url, "0" * 64, directory=tmp_path / "cache", deadline=1.0)
        assert time.monotonic() - start < 5
        assert not (tmp_path / "cache" / "slow.pt").exists() and not list((tmp_path / "cache").iterdir())
        with pytest.raises(ValueError, match="deadline = nan is out of range"):
            files.load_from_url(url, "0" * 64, directory=tmp_path / "cache", deadline=float("nan"))
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_load_from_url_refuses_a_pickle_that_runs_code(tmp_path):
    source = tmp_path / "evil.pt"
    torch.save({"x": Path("/")}, source)  # any object beyond tensors and containers is refused by weights_only
    with pytest.raises(files.WeightsError, match="does not load with weights_only=True"):
        files.load_from_url(source.as_uri(), files.sha256_file(source), directory=tmp_path / "cache")


# --------------------------------------------------------------------------------------
# The models shipped with the package
# --------------------------------------------------------------------------------------


@pytest.mark.slow
def test_every_shipped_model_verifies(monkeypatch):
    """CI: each file in the package's manifest has its hash, loads, and reproduces its n = 1,000 score.

    Without the real MNIST-family files (the scores need them), the data-free part is
    still checked: hash, load and the statistics of the regenerated samples.
    """
    shipped = files.read_manifest()["models"]
    if not shipped:
        pytest.skip(f"no reference models shipped yet: {files.MANIFEST_PATH} lists none")
    root = Path(os.environ.get("GANCOURSE_DATA") or SHARED)
    with_data = (root / "MNIST" / "raw").is_dir() and (root / "FashionMNIST" / "raw").is_dir()
    monkeypatch.setenv("GANCOURSE_DATA", str(root))
    results = reference.verify(samples_only=not with_data)
    failed = {r.name: r.problems for r in results if not r.ok}
    assert not failed, failed
    assert {r.name for r in results} == set(shipped)


def test_the_shipped_manifest_is_as_committed():
    manifest = files.read_manifest()
    assert files.MANIFEST_PATH.read_text() == files.manifest_text(manifest)
    assert scores.TOLERANCE == 0.02


def test_list_has_column_headers(capsys):
    assert main(["list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:4] == ["NAME", "SIZE", "TRAINED", "SCORE"]
    shipped_row = next(line for line in lines if line.startswith("dcgan_mnist "))
    header = lines[0]  # right-aligned columns: each value ends where its header does
    assert shipped_row.index(" MB") + 3 == header.index("SIZE") + 4
    assert shipped_row.index(" min") + 4 == header.index("TRAINED") + 7
