"""MusicnnFeatures and predict_musicnn_tags: shapes, pooling, parameters, parity with musicnn."""

import json
import pickle

import numpy as np
import pytest
import soundfile as sf
import torch
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline

from skfma.audio import resample
from skfma.exceptions import ParameterError
from skfma.nn import MusicnnModule, MusicnnVGGModule
from skfma.transfer import MUSICNN_LAYERS, MUSICNN_TAGS, MusicnnFeatures, predict_musicnn_tags
from skfma.transfer._musicnn import _pretrained_network, log_mel_windows

MODELS = ["MTT_musicnn", "MSD_musicnn", "MTT_vgg", "MSD_vgg"]


def noise(n_clips, n_samples, seed=0):
    return np.random.default_rng(seed).uniform(-0.2, 0.2, (n_clips, n_samples)).astype(np.float32)


@pytest.mark.parametrize("model", MODELS)
def test_every_layer_and_pooling_has_its_width(model):
    X = noise(2, 16000)  # 1 s: padded to one window
    for layer, width in MUSICNN_LAYERS[model].items():
        for pooling, factor in [("mean", 1), ("mean+std", 2)]:
            extractor = MusicnnFeatures(model=model, layer=layer, pooling=pooling)
            names = extractor.get_feature_names_out()
            assert len(names) == factor * width
            if layer != "taggram" or pooling != "mean":
                continue
            out = extractor.fit_transform(X)
            assert out.shape == (2, width) and out.dtype == np.float32
            assert names[0] == f"{model}_taggram_mean_{MUSICNN_TAGS[model][0]}"
            assert np.all((out >= 0) & (out <= 1))


def test_the_shipped_weights_load_into_the_modules():
    for model in MODELS:
        network = _pretrained_network(model, torch.device("cpu"))
        assert not network.training
        assert not any(p.requires_grad for p in network.parameters())


def test_poolings_over_windows():
    X = noise(2, 3 * 187 * 256)  # 3 windows (and 1 trailing frame, dropped)
    windows = log_mel_windows(torch.from_numpy(X))
    assert windows.shape == (2, 3, 96, 187)
    with torch.inference_mode():
        network = _pretrained_network("MTT_vgg", torch.device("cpu"))
        per_window = network.extract(windows.flatten(0, 1), "pool5").unflatten(0, (2, 3))
    per_window = per_window.numpy()
    features = {
        pooling: MusicnnFeatures(model="MTT_vgg", layer="pool5", pooling=pooling).transform(X)
        for pooling in ("mean", "max", "mean+std")
    }
    # float32 sums of a few hundred products per unit, whatever the batch layout.
    tolerance = {"rtol": 1e-4, "atol": 1e-5}
    np.testing.assert_allclose(features["mean"], per_window.mean(axis=1), **tolerance)
    np.testing.assert_allclose(features["max"], per_window.max(axis=1), **tolerance)
    np.testing.assert_allclose(features["mean+std"][:, :256], features["mean"], **tolerance)
    np.testing.assert_allclose(features["mean+std"][:, 256:], per_window.std(axis=1), **tolerance)


def test_batch_layout_does_not_change_the_features():
    X = noise(3, 2 * 187 * 256, seed=1)
    reference = MusicnnFeatures(model="MSD_vgg", layer="pool5").transform(X)
    for batch_size in (4, 7):  # windows per pass, across clip boundaries
        out = MusicnnFeatures(model="MSD_vgg", layer="pool5", batch_size=batch_size).transform(X)
        np.testing.assert_allclose(out, reference, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(
        MusicnnFeatures(model="MSD_vgg", layer="pool5").transform(X[1:2]),
        reference[1:2],
        rtol=1e-4,
        atol=1e-5,
    )


def test_short_clips_are_zero_padded_to_one_window():
    X = noise(2, 300)
    padded = np.pad(X, ((0, 0), (0, 186 * 256 - 300)))
    extractor = MusicnnFeatures(model="MTT_vgg", layer="taggram")
    np.testing.assert_array_equal(extractor.transform(X), extractor.transform(padded))
    assert np.isfinite(extractor.transform(np.zeros((1, 1), np.float32))).all()


def test_other_rates_are_resampled_to_16k():
    X = noise(1, 22050)
    at_16k = resample(X.T, 22050, 16000, mono=False)
    extractor = MusicnnFeatures(model="MTT_vgg", layer="pool5")
    np.testing.assert_array_equal(
        extractor.set_params(sr=22050).transform(X),
        extractor.set_params(sr=16000).transform(at_16k),
    )


def test_stateless_clone_pickle_and_pandas_output():
    X = noise(2, 8000)
    extractor = MusicnnFeatures(model="MTT_vgg", layer="taggram", pooling="max")
    out = extractor.transform(X)  # unfitted: stateless
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(extractor)).transform(X), out)
    np.testing.assert_array_equal(clone(extractor).fit(X).transform(X), out)
    frame = clone(extractor).set_output(transform="pandas").fit_transform(X)
    assert list(frame.columns) == list(extractor.get_feature_names_out())
    assert frame.columns[1] == "MTT_vgg_taggram_max_classical"


def test_grid_search_over_model_and_layer():
    X = noise(4, 8000)
    y = np.array([0, 1, 0, 1])
    X[y == 1] *= 0.01  # quiet and loud clips
    pipe = make_pipeline(MusicnnFeatures(), LogisticRegression())
    grid = [
        {"musicnnfeatures__model": ["MTT_vgg"], "musicnnfeatures__layer": ["taggram"]},
        {"musicnnfeatures__model": ["MSD_vgg"], "musicnnfeatures__layer": ["pool5"]},
    ]
    search = GridSearchCV(pipe, grid, cv=2, error_score="raise").fit(X, y)
    assert len(search.cv_results_["params"]) == 2
    assert search.predict(X).shape == (4,)


@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({"model": "MTT"}, "model"),
        ({"model": "MTT_vgg", "layer": "penultimate"}, "layer"),
        ({"pooling": "median"}, "pooling"),
        ({"sr": 0}, "sr"),
        ({"batch_size": 0}, "batch_size"),
        ({"device": 0}, "device"),
        ({"precision": "float16"}, "precision"),
        ({"precision": None}, "precision"),
        ({"layer": []}, "layer"),
        ({"layer": ["penultimate", "penultimate"]}, "layer"),
        ({"layer": ["penultimate", 3]}, "layer"),
        ({"layer": ["penultimate", "pool5"]}, "layer"),
        ({"layer": {"penultimate"}}, "layer"),
    ],
)
def test_parameter_errors_name_the_parameter(params, name):
    with pytest.raises(ParameterError, match=rf"^MusicnnFeatures: {name}\b"):
        MusicnnFeatures(**params).fit(noise(1, 100))


def test_musicnn_tags_lists_the_top_tags():
    X = noise(2, 16000)
    tags = predict_musicnn_tags(X, model="MSD_vgg", top_k=4)
    probabilities = MusicnnFeatures(model="MSD_vgg", layer="taggram").transform(X)
    assert [len(clip) for clip in tags] == [4, 4]
    for clip, row in zip(tags, probabilities, strict=True):
        names = [name for name, _ in clip]
        expected = np.argsort(-row, kind="stable")[:4]
        assert names == [MUSICNN_TAGS["MSD_vgg"][i] for i in expected]
        assert [p for _, p in clip] == sorted((p for _, p in clip), reverse=True)
    assert len(predict_musicnn_tags(X[:1], model="MSD_vgg", top_k=50)[0]) == 50
    with pytest.raises(ParameterError, match="top_k must be at most the 50 tags of MSD_vgg"):
        predict_musicnn_tags(X[:1], model="MSD_vgg", top_k=99)  # was cut to 50 silently
    with pytest.raises(ParameterError, match=r"^predict_musicnn_tags: top_k"):
        predict_musicnn_tags(X, top_k=0)
    with pytest.raises(ParameterError, match=r"^predict_musicnn_tags: precision"):
        predict_musicnn_tags(X, precision="half")
    assert len(predict_musicnn_tags(X[:1], model="MSD_vgg", top_k=3, precision="bfloat16")[0]) == 3


@pytest.mark.parametrize(
    ("model", "layers"),
    [("MSD_musicnn", ["penultimate", "mean_pool", "taggram"]), ("MTT_vgg", ["pool5", "taggram"])],
)
def test_several_layers_come_from_one_pass_as_separate_calls(model, layers):
    X = noise(2, 4 * 187 * 256, seed=2)  # 4 windows
    for precision in ("float32", "bfloat16"):
        params = {"model": model, "pooling": "mean+std", "precision": precision}
        together = MusicnnFeatures(layer=layers, **params)
        alone = [MusicnnFeatures(layer=layer, **params) for layer in layers]
        np.testing.assert_array_equal(
            together.transform(X), np.hstack([extractor.transform(X) for extractor in alone])
        )
        names = np.concatenate([extractor.get_feature_names_out() for extractor in alone])
        assert list(together.get_feature_names_out()) == list(names)
    frame = MusicnnFeatures(model=model, layer=tuple(layers)).set_output(transform="pandas")
    assert frame.fit_transform(X[:1]).shape == (1, sum(MUSICNN_LAYERS[model][n] for n in layers))


@pytest.mark.parametrize(
    ("module", "shape"),
    [
        (MusicnnModule(), (3, 96, 187)),
        (MusicnnModule(n_mels=40, timbral_filters=20, temporal_filters=5), (2, 40, 25)),
        (MusicnnModule(n_mels=40, timbral_filters=20, temporal_filters=5), (2, 40, 1)),
        (MusicnnModule(n_mels=40, timbral_filters=20, temporal_filters=5), (1, 40, 32)),
        (MusicnnVGGModule(), (3, 96, 187)),
        (MusicnnVGGModule(n_mels=70, n_frames=80, filters=24), (2, 70, 80)),
    ],
)
def test_lowered_inference_matches_the_convolutions(module, shape):
    """The CPU's inference path (matrix products, pooling first) against the layer-by-layer one."""
    torch.manual_seed(0)
    module.eval()
    for bn in (m for m in module.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)):
        bn.weight.data.uniform_(-1.5, 1.5)  # negative scales: the sign-flipped filters
        bn.running_mean.data.normal_(0, 0.2)
        bn.running_var.data.uniform_(0.5, 2)
    x = torch.randn(shape)
    layers = list(module.layer_widths)
    with torch.enable_grad():  # autograd: the convolution path
        expected = [out.detach() for out in module.extract(x, layers)]
    with torch.inference_mode():
        lowered = module.extract(x, layers)
        reduced = module.extract(x, layers, precision="bfloat16")
    for name, want, got, low in zip(layers, expected, lowered, reduced, strict=True):
        scale = want.abs().max().item()
        # float32 round-off of sums in another order (a few hundred terms each).
        torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-5 * scale, msg=name)
        assert got.dtype == low.dtype == torch.float32
        assert (low - want).norm() <= BFLOAT16_RELATIVE_ERROR * want.norm(), name
    with pytest.raises(ParameterError, match="precision"):
        module.extract(x, layers[0], precision="float16")


#: bfloat16 keeps 8 significant bits: each operand of a product is rounded by up to 2**-9 of
#: its value, so each rounded layer (input and weights) adds up to about 2**-8 relative error;
#: five such layers in sequence (musicnn's front end and mid end, the VGG's five blocks), and
#: batch norm gains and max pooling's changed winners up to about twice that, give 16 * 2**-8
#: (6.25%) of an embedding's norm. Measured on the reference clips and noise: at most 11.6 *
#: 2**-8 (MTT_vgg pool5, max over windows), 7.9 * 2**-8 with the mean.
BFLOAT16_RELATIVE_ERROR = 16 * 2.0**-8
#: Tag probabilities: a logit error of about the same relative size (logits up to about 5)
#: moves p by at most p (1 - p) <= 1/4 times it: 2**-5 absolute; measured 0.028 at most.
BFLOAT16_TAGGRAM_ATOL = 2.0**-5


def assert_bfloat16_close(reduced, full, width, layers):
    """Each layer's block of columns within BFLOAT16_RELATIVE_ERROR of its norm, per clip."""
    start = 0
    for layer in layers:
        block = slice(start, start + width[layer])
        start = block.stop
        error = np.linalg.norm(reduced[:, block] - full[:, block], axis=1)
        assert np.all(error <= BFLOAT16_RELATIVE_ERROR * np.linalg.norm(full[:, block], axis=1))
        if layer == "taggram":
            np.testing.assert_allclose(
                reduced[:, block], full[:, block], rtol=0, atol=BFLOAT16_TAGGRAM_ATOL
            )


@pytest.mark.parametrize("model", MODELS)
def test_bfloat16_embeddings_stay_close_to_float32(model):
    X = noise(2, 2 * 187 * 256, seed=3)
    layers = list(MUSICNN_LAYERS[model])
    for pooling in ("mean", "max"):
        params = {"model": model, "layer": layers, "pooling": pooling}
        full = MusicnnFeatures(**params).transform(X)
        reduced = MusicnnFeatures(precision="bfloat16", **params).transform(X)
        assert reduced.dtype == np.float32
        assert_bfloat16_close(reduced, full, MUSICNN_LAYERS[model], layers)


#: The reference's taggram, within the issue's 1e-3 (the fixture README expects about 1e-4
#: between float32 implementations: convolutions summing up to 3,927 products in another
#: order, and a mel value on a float16 rounding boundary that rounds the other way).
TAGGRAM_ATOL = 1e-3
#: Embedding values are O(1) (up to about 7) and rounded to 5 decimals in the reference
#: (5e-6); float32 round-off through the network is about 1e-4 relative, as above.
EMBEDDING_TOLERANCE = {"rtol": 1e-3, "atol": 1e-4}


@pytest.fixture(scope="module")
def musicnn_reference(fixtures_dir):
    folder = fixtures_dir / "musicnn"
    if not (folder / "reference.json").is_file():
        pytest.skip(f"musicnn fixtures not found in {folder}")
    reference = json.loads((folder / "reference.json").read_text())
    names = sorted(name for name in reference if name.endswith(".wav"))
    X = np.stack([sf.read(folder / name, dtype="float32")[0] for name in names])
    return reference, names, X


def test_labels_are_musicnns(musicnn_reference):
    reference, _, _ = musicnn_reference
    for model in MODELS:
        assert list(MUSICNN_TAGS[model]) == reference["labels"][model[:3]]


@pytest.mark.parametrize("model", MODELS)
def test_parity_with_musicnn(musicnn_reference, model):
    reference, names, X = musicnn_reference
    layers = list(MUSICNN_LAYERS[model])
    with torch.inference_mode():
        windows = log_mel_windows(torch.from_numpy(X))
        assert windows.shape[1] == reference[names[0]]["n_windows"]
        network = _pretrained_network(model, torch.device("cpu"))
        outputs = network.extract(windows.flatten(0, 1), layers)
    per_layer = {
        layer: out.unflatten(0, windows.shape[:2]).mean(dim=1).numpy()
        for layer, out in zip(layers, outputs, strict=True)
    }
    for i, name in enumerate(names):
        expected = reference[name][model]
        taggram = per_layer["taggram"][i]
        np.testing.assert_allclose(taggram, expected["mean_taggram"], rtol=0, atol=TAGGRAM_ATOL)
        top5 = [MUSICNN_TAGS[model][tag] for tag in np.argsort(-taggram)[:5]]
        assert top5 == expected["top5"]
        for layer in layers[1:]:
            assert per_layer[layer].shape[1] == expected[f"{layer}_width"]
            np.testing.assert_allclose(
                per_layer[layer][i, :8],
                expected[f"{layer}_mean_over_windows_first8"],
                **EMBEDDING_TOLERANCE,
            )


@pytest.mark.parametrize("model", MODELS)
def test_bfloat16_keeps_the_reference_top5(musicnn_reference, model):
    reference, names, X = musicnn_reference
    layers = list(MUSICNN_LAYERS[model])  # the taggram first
    full, reduced = (
        MusicnnFeatures(model=model, layer=layers, precision=precision).transform(X)
        for precision in ("float32", "bfloat16")
    )
    for i, name in enumerate(names):
        taggram = reduced[i, :50]
        top5 = [MUSICNN_TAGS[model][tag] for tag in np.argsort(-taggram, kind="stable")[:5]]
        assert top5 == reference[name][model]["top5"]
    assert_bfloat16_close(reduced, full, MUSICNN_LAYERS[model], layers)
    tags = predict_musicnn_tags(X, model=model, top_k=5, precision="bfloat16")
    assert [[tag for tag, _ in clip] for clip in tags] == [
        reference[name][model]["top5"] for name in names
    ]


def test_public_tags_match_the_reference(musicnn_reference):
    reference, names, X = musicnn_reference
    tags = predict_musicnn_tags(X, model="MSD_vgg", top_k=5)
    assert [[tag for tag, _ in clip] for clip in tags] == [
        reference[name]["MSD_vgg"]["top5"] for name in names
    ]
