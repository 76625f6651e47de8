"""PretrainedCNNFeatures: image preparation, cut layers, weights, estimator API, pipelines."""

import io
import pickle

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.decomposition import PCA
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from skfma import AudioLoader, MelSpectrogram
from skfma.datasets import make_genre_clips
from skfma.exceptions import ParameterError
from skfma.transfer import CUT_LAYERS, PretrainedCNNFeatures, spectrograms_to_images
from skfma.transfer._backbones import cut_network

torchvision = pytest.importorskip("torchvision")

#: The widths the documentation promises, per (backbone, layer).
WIDTHS = {
    ("vgg16", "block5_pool"): 25088,
    ("vgg16", "fc1"): 4096,
    ("vgg16", "fc2"): 4096,
    ("resnet50", "conv5_block1_2_relu"): 25088,
    ("resnet50", "avg_pool"): 2048,
    ("resnet18", "avg_pool"): 512,
}


def full_network(backbone, seed=0):
    """torchvision's whole classifier with random weights, frozen, in eval mode."""
    torch.manual_seed(seed)
    return torchvision.models.get_model(backbone, weights=None).eval().requires_grad_(False)


def hooked_activation(network, backbone, layer, images):
    """The cut layer's output, read by a forward hook while the whole network runs."""
    outputs = []

    def hook(module, inputs, output):
        outputs.append(output.clone())  # the ReLUs are in place

    if backbone == "vgg16":
        module = {"block5_pool": network.features[30], "fc1": network.classifier[1]}.get(
            layer, network.classifier[4]
        )
    elif layer == "avg_pool":
        module = network.avgpool
    else:
        module = network.layer4[0].relu  # called three times per forward pass: the second
    handle = module.register_forward_hook(hook)
    network(images)
    handle.remove()
    return outputs[1 if layer == "conv5_block1_2_relu" else 0].flatten(1)


@pytest.fixture(scope="module")
def spectrograms():
    return np.random.default_rng(0).normal(-40, 15, size=(3, 64, 200)).astype(np.float32)


def test_images_are_scaled_flipped_resized_and_normalised():
    spectrogram = torch.arange(20.0).reshape(1, 4, 5) * 3 - 7  # rows = bins, low first
    images = spectrograms_to_images(spectrogram)
    assert images.shape == (1, 3, 224, 224)
    mean = torch.tensor([0.485, 0.456, 0.406])[:, None, None]
    std = torch.tensor([0.229, 0.224, 0.225])[:, None, None]
    gray = images[0] * std + mean
    torch.testing.assert_close(gray, gray[:1].expand(3, -1, -1))  # three equal channels
    assert gray.min() >= -1e-6 and gray.max() <= 1 + 1e-6
    assert gray.min() < 0.05 and gray.max() > 0.95
    # The first bin (lowest values) is the bottom row; time runs left to right.
    assert gray[0, -1, 0] < gray[0, 0, 0] and gray[0, 0, 0] < gray[0, 0, -1]


def test_images_of_a_constant_clip_are_black_and_finite():
    images = spectrograms_to_images(torch.full((2, 8, 8), -100.0))
    mean = torch.tensor([0.485, 0.456, 0.406])[:, None, None]
    std = torch.tensor([0.229, 0.224, 0.225])[:, None, None]
    torch.testing.assert_close(images, (-mean / std).expand(2, 3, 224, 224))


@pytest.fixture(scope="module")
def networks():
    return {backbone: full_network(backbone) for backbone in CUT_LAYERS}


@pytest.mark.parametrize(("backbone", "layer"), list(WIDTHS))
def test_cut_matches_forward_hook_on_the_whole_network(networks, spectrograms, backbone, layer):
    network = networks[backbone]
    images = spectrograms_to_images(torch.from_numpy(spectrograms[:1]))
    truncated = cut_network(network, backbone, layer)
    with torch.inference_mode():
        ours = truncated(images).flatten(1)
        reference = hooked_activation(network, backbone, layer, images)
    assert ours.shape == (1, WIDTHS[backbone, layer])
    assert np.prod(CUT_LAYERS[backbone][layer]) == WIDTHS[backbone, layer]
    torch.testing.assert_close(ours, reference, rtol=1e-5, atol=1e-5)
    assert ours.abs().sum() > 0
    # Nothing after the cut is part of the truncated network.
    later = network.classifier[6] if backbone == "vgg16" else network.fc
    modules = list(truncated.modules())
    assert not any(module is later for module in modules)
    if layer == "conv5_block1_2_relu":
        assert not any(module is network.layer4[0].conv3 for module in modules)


@pytest.mark.parametrize(("backbone", "layer"), list(WIDTHS))
def test_transform_width_dtype_and_names(spectrograms, backbone, layer):
    extractor = PretrainedCNNFeatures(backbone=backbone, layer=layer, weights=None, random_state=0)
    out = extractor.fit_transform(spectrograms[:1])
    assert out.shape == (1, WIDTHS[backbone, layer]) and out.dtype == np.float32
    assert extractor.n_features_out_ == WIDTHS[backbone, layer]
    assert extractor.output_shape_ == CUT_LAYERS[backbone][layer]
    names = extractor.get_feature_names_out()
    assert len(names) == len(set(names)) == WIDTHS[backbone, layer]
    assert names[0].startswith(f"{backbone}_{layer}_")
    # Unfitted (it need not be): the same names, from the parameters; it was an AttributeError.
    unfitted = PretrainedCNNFeatures(backbone=backbone, layer=layer, weights=None)
    np.testing.assert_array_equal(unfitted.get_feature_names_out(), names)


def test_default_layer_is_the_one_before_the_classifier(spectrograms):
    layers = {
        backbone: PretrainedCNNFeatures(backbone=backbone, weights=None)
        .fit(spectrograms[:1])
        .layer_
        for backbone in CUT_LAYERS
    }
    assert layers == {"vgg16": "fc2", "resnet50": "avg_pool", "resnet18": "avg_pool"}


def test_spatial_names_follow_channel_first_flattening(spectrograms):
    extractor = PretrainedCNNFeatures(layer="conv5_block1_2_relu", weights=None).fit(spectrograms)
    names = extractor.get_feature_names_out()
    assert names[0] == "resnet50_conv5_block1_2_relu_c0_y0_x0"
    assert names[1] == "resnet50_conv5_block1_2_relu_c0_y0_x1"
    assert names[49] == "resnet50_conv5_block1_2_relu_c1_y0_x0"
    assert names[-1] == "resnet50_conv5_block1_2_relu_c511_y6_x6"


def test_saved_state_dict_gives_identical_outputs(tmp_path, spectrograms):
    network = full_network("resnet18", seed=3)
    path = tmp_path / "resnet18.pt"
    torch.save(network.state_dict(), path)
    extractor = PretrainedCNNFeatures(backbone="resnet18", weights=path, batch_size=3)
    out = extractor.fit_transform(spectrograms)
    with torch.inference_mode():
        reference = hooked_activation(
            network, "resnet18", "avg_pool", spectrograms_to_images(torch.from_numpy(spectrograms))
        )
    np.testing.assert_array_equal(out, reference.numpy())
    again = PretrainedCNNFeatures(backbone="resnet18", weights=str(path), batch_size=3)
    np.testing.assert_array_equal(again.fit_transform(spectrograms), out)
    restored = pickle.loads(pickle.dumps(extractor))
    np.testing.assert_array_equal(restored.transform(spectrograms), out)
    backbone, layer, recipe = extractor._model()
    network = extractor._network(backbone, layer, recipe, torch.device("cpu"))
    assert not any(p.requires_grad for p in network.parameters())


def test_imagenet_weights_come_from_the_torch_cache(tmp_path, monkeypatch, spectrograms):
    # What torchvision downloads on a machine with internet, put in the cache by hand.
    network = full_network("resnet18", seed=5)
    url = torchvision.models.ResNet18_Weights.IMAGENET1K_V1.url
    checkpoints = tmp_path / "hub" / "checkpoints"
    checkpoints.mkdir(parents=True)
    torch.save(network.state_dict(), checkpoints / url.rsplit("/", 1)[-1])
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    out = PretrainedCNNFeatures(backbone="resnet18").fit_transform(spectrograms)
    with torch.inference_mode():
        images = spectrograms_to_images(torch.from_numpy(spectrograms))
        reference = hooked_activation(network, "resnet18", "avg_pool", images)
    np.testing.assert_allclose(out, reference.numpy(), rtol=1e-5, atol=1e-6)


def test_unreachable_imagenet_weights_say_what_to_do(tmp_path, monkeypatch, spectrograms):
    def offline(url, *args, **kwargs):
        raise OSError("network is unreachable")

    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    monkeypatch.setattr(torch.hub, "download_url_to_file", offline)
    with pytest.raises(OSError, match="weights=PATH") as error:
        PretrainedCNNFeatures(backbone="resnet18").fit(spectrograms)
    assert "resnet18-f37072fd.pth" in str(error.value)
    assert str(tmp_path / "hub" / "checkpoints") in str(error.value)


def test_wrong_state_dict_names_the_weights(tmp_path, spectrograms):
    path = tmp_path / "resnet18.pt"
    torch.save(full_network("resnet18").state_dict(), path)
    with pytest.raises(ParameterError, match=r"weights=.*resnet50"):
        PretrainedCNNFeatures(backbone="resnet50", weights=path).fit(spectrograms)
    torch.save(torch.zeros(3), path)  # a tensor, not a dict
    with pytest.raises(ParameterError, match=r"weights=.*resnet18"):
        PretrainedCNNFeatures(backbone="resnet18", weights=path).fit(spectrograms)


def test_a_weights_path_expands_the_home_folder(tmp_path, monkeypatch, spectrograms):
    monkeypatch.setenv("HOME", str(tmp_path))
    torch.save(full_network("resnet18").state_dict(), tmp_path / "resnet18.pt")
    PretrainedCNNFeatures(backbone="resnet18", weights="~/resnet18.pt").fit(spectrograms)
    with pytest.raises(ParameterError, match="weights must name a folder or file"):
        PretrainedCNNFeatures(backbone="resnet18", weights="").fit(spectrograms)


def resnet18_bytes():
    """A resnet18 state dict as ``torch.save`` writes it."""
    buffer = io.BytesIO()
    torch.save(full_network("resnet18").state_dict(), buffer)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("make_bytes", "message"),
    [
        (lambda: b"", "is empty"),
        (lambda: b"these are not weights\n", "cannot read"),
        (lambda: bytes(range(256)) * 8, "cannot read"),
        (lambda: resnet18_bytes()[:5000], "cannot read"),  # truncated
        (lambda: resnet18_bytes()[:-5000], "cannot read"),
        (lambda: pickle.dumps({"conv1.weight": np.zeros(3)}, protocol=2), "cannot read"),
    ],
    ids=["empty", "text", "junk", "head", "tail-cut", "plain-pickle"],
)
def test_unreadable_weights_file_is_named(tmp_path, spectrograms, make_bytes, message):
    path = tmp_path / "weights.pt"
    path.write_bytes(make_bytes())
    with pytest.raises(ParameterError, match=message) as error:
        PretrainedCNNFeatures(backbone="resnet18", weights=path).fit(spectrograms)
    assert str(error.value).startswith("PretrainedCNNFeatures: weights")
    assert str(path) in str(error.value)


def test_whole_pickled_model_is_refused_naming_the_file(tmp_path, spectrograms):
    path = tmp_path / "model.pt"
    torch.save(full_network("resnet18"), path)  # refused by weights_only
    with pytest.raises(ParameterError, match=r"weights: cannot read .*model\.pt.*Unpickling"):
        PretrainedCNNFeatures(backbone="resnet18", weights=path).fit(spectrograms)


def test_random_weights_follow_random_state(spectrograms):
    def features(seed):
        extractor = PretrainedCNNFeatures(backbone="resnet18", weights=None, random_state=seed)
        return extractor.fit_transform(spectrograms[:1])

    np.testing.assert_array_equal(features(0), features(0))
    assert not np.allclose(features(0), features(1))
    state = torch.get_rng_state()
    features(None)
    assert torch.equal(torch.get_rng_state(), state)  # the global torch seed is left alone


def test_fit_transform_batches_and_repeated_calls_agree(spectrograms):
    extractor = PretrainedCNNFeatures(backbone="resnet18", weights=None, random_state=0)
    together = extractor.fit_transform(spectrograms)
    np.testing.assert_array_equal(extractor.transform(spectrograms), together)
    one_by_one = extractor.set_params(batch_size=1).transform(spectrograms)
    np.testing.assert_allclose(one_by_one, together, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(
        extractor.transform(spectrograms.astype(np.float64)), together, rtol=1e-4, atol=1e-5
    )
    # Rows are independent: a clip's features do not depend on the other clips.
    np.testing.assert_allclose(extractor.transform(spectrograms[1:2]), together[1:2], atol=1e-5)
    # float64 beyond float32's range became inf, then rows of NaN, silently.
    with pytest.raises(
        ValueError, match=r"too large for dtype\('float32'\) \(the largest is 1e\+39"
    ):
        extractor.transform(spectrograms.astype(np.float64) * 1e39 / np.abs(spectrograms).max())


def test_pickle_drops_the_network_and_rebuilds_it(spectrograms):
    extractor = PretrainedCNNFeatures(backbone="resnet18", weights=None, random_state=7)
    out = extractor.fit_transform(spectrograms)
    blob = pickle.dumps(extractor)
    assert len(blob) < 10_000  # no weights inside
    restored = pickle.loads(blob)
    np.testing.assert_array_equal(restored.transform(spectrograms), out)
    np.testing.assert_array_equal(clone(extractor).fit_transform(spectrograms), out)
    assert clone(extractor).get_params() == extractor.get_params()


def test_is_stateless_transform_needs_no_fit(spectrograms):
    extractor = PretrainedCNNFeatures(backbone="resnet18", weights=None, random_state=4)
    np.testing.assert_array_equal(
        extractor.transform(spectrograms), clone(extractor).fit_transform(spectrograms)
    )
    assert not hasattr(extractor, "layer_")


def test_pickled_extractor_refuses_a_changed_weights_file(tmp_path, spectrograms):
    path = tmp_path / "resnet18.pt"
    torch.save(full_network("resnet18", seed=1).state_dict(), path)
    blob = pickle.dumps(PretrainedCNNFeatures(backbone="resnet18", weights=path).fit(spectrograms))
    torch.save(full_network("resnet18", seed=2).state_dict(), path)
    with pytest.raises(ParameterError, match="has changed"):
        pickle.loads(blob).transform(spectrograms)


def test_pickled_extractor_names_a_weights_path_it_cannot_read(tmp_path, spectrograms):
    path = tmp_path / "resnet18.pt"
    torch.save(full_network("resnet18", seed=3).state_dict(), path)
    blob = pickle.dumps(PretrainedCNNFeatures(backbone="resnet18", weights=path).fit(spectrograms))
    path.unlink()
    path.mkdir()  # the path now holds something that cannot be read as a file
    with pytest.raises(ParameterError, match=r"^PretrainedCNNFeatures: weights: cannot read"):
        pickle.loads(blob).transform(spectrograms)


def test_pandas_output(spectrograms):
    extractor = PretrainedCNNFeatures(backbone="resnet18", weights=None, random_state=0)
    frame = extractor.set_output(transform="pandas").fit_transform(spectrograms)
    assert frame.shape == (3, 512)
    assert list(frame.columns[:2]) == ["resnet18_avg_pool_0", "resnet18_avg_pool_1"]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"backbone": "alexnet"}, "backbone"),
        ({"backbone": "resnet50", "layer": "fc1"}, "layer"),
        ({"backbone": "vgg16", "layer": "avg_pool"}, "layer"),
        ({"weights": "imagenet21k"}, "weights"),
        ({"weights": 3}, "weights"),
        ({"batch_size": 0}, "batch_size"),
        ({"device": 0}, "device"),
    ],
)
def test_bad_parameters_name_the_parameter(spectrograms, params, message):
    with pytest.raises(ParameterError, match=message):
        PretrainedCNNFeatures(**{"weights": None, **params}).fit(spectrograms)


@pytest.mark.parametrize("shape", [(2, 64), (2, 64, 0), (2, 3, 64, 64)])
def test_input_must_be_spectrograms(shape):
    with pytest.raises(ValueError, match="n_clips, n_bins, n_frames"):
        PretrainedCNNFeatures(backbone="resnet18", weights=None).fit(np.zeros(shape, np.float32))


def test_transform_checks_the_number_of_bins(spectrograms):
    extractor = PretrainedCNNFeatures(backbone="resnet18", weights=None).fit(spectrograms)
    with pytest.raises(ValueError, match="64 features"):
        extractor.transform(spectrograms[:, :32])


def test_grid_search_pipeline_from_audio_files(tmp_path):
    paths, genres = make_genre_clips(
        12, n_genres=2, duration=1.0, directory=tmp_path, audio_format="wav"
    )
    pipeline = make_pipeline(
        AudioLoader(sr=22050, duration=1.0),
        MelSpectrogram(n_mels=64),
        PretrainedCNNFeatures(backbone="resnet18", weights=None, random_state=0),
        StandardScaler(),
        PCA(n_components=0.9),
        SVC(),
    )
    search = GridSearchCV(pipeline, {"svc__C": [1.0, 10.0]}, cv=2).fit(paths, genres)
    assert len(search.cv_results_["params"]) == 2
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    assert search.best_estimator_.named_steps["pca"].n_components_ < 12
    predictions = search.predict(paths)
    assert predictions.shape == (12,) and set(predictions) <= set(genres)
    assert search.score(paths, genres) > 0.5


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a GPU that torch can see")
def test_cuda_matches_cpu(spectrograms):
    extractor = PretrainedCNNFeatures(backbone="resnet18", weights=None, random_state=0)
    cpu = extractor.fit_transform(spectrograms)
    gpu = extractor.set_params(device="cuda").transform(spectrograms)
    assert gpu.dtype == np.float32
    np.testing.assert_allclose(gpu, cpu, rtol=1e-3, atol=1e-3)
