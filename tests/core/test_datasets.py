"""The three known IDX datasets: fetched from a local server on 127.0.0.1 (small fake files, their own
checksums), each into its own folder, identified on load, with their class names."""

import functools
import hashlib
import http.server
import threading

import numpy as np
import pytest

from digitviz.core import datasets
from digitviz.core.data import load_mnist
from digitviz.core.fetch import FetchError, fetch_dataset
from tests.core.test_data import write_mnist


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


@pytest.fixture
def served(tmp_path, rng):
    """Fake IDX files on 127.0.0.1; yields (base URL, checksums of those files)."""
    root = tmp_path / "served"
    write_mnist(root, rng, n_train=20, n_test=10)
    sums = {p.name: (hashlib.md5(p.read_bytes()).hexdigest(), p.stat().st_size) for p in root.iterdir()}
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(root)))
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/", sums
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


@pytest.mark.parametrize("key", ["mnist", "fashion", "kmnist"])
def test_each_dataset_downloads_into_its_own_cache_folder_and_is_named(key, served, tmp_path, monkeypatch):
    url, sums = served
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("HOME", str(tmp_path))
    seen = []
    out = fetch_dataset(key, mirrors=[url], checksums=sums, progress=lambda n, d, t: seen.append(n))
    assert out == tmp_path / "cache" / "digitviz" / key
    assert set(sums) <= {p.name for p in out.iterdir()}
    assert set(seen) == set(sums)
    ds = load_mnist(out)
    assert ds.name == key
    assert ds.class_names == datasets.info(key).class_names
    assert ds.title == datasets.info(key).title
    assert ds.subset(5, 5).class_names == ds.class_names


@pytest.mark.parametrize("key", ["mnist", "fashion", "kmnist"])
def test_the_published_checksums_refuse_other_bytes(key, served, tmp_path):
    url, _ = served
    with pytest.raises(FetchError, match="MD5|bytes"):
        fetch_dataset(key, tmp_path / key, mirrors=[url])
    assert not any(p.suffix == ".gz" for p in (tmp_path / key).iterdir())


def test_published_files_and_names():
    assert datasets.FASHION.class_names[0] == "T-shirt/top" and datasets.FASHION.class_names[9] == "Ankle boot"
    assert "".join(datasets.KMNIST.class_names) == "おきすつなはまやれを"
    for ds in datasets.DATASETS.values():
        assert len(ds.class_names) == 10
        assert sorted(ds.checksums) == sorted(datasets.MNIST.checksums)  # the same four official file names
        assert all(len(md5) == 32 and size > 0 for md5, size in ds.checksums.values())
    assert len({ds.checksums["t10k-labels-idx1-ubyte.gz"][0] for ds in datasets.DATASETS.values()}) == 3


def test_an_unknown_folder_says_class_k(tmp_path, rng):
    write_mnist(tmp_path / "my-idx", rng)
    ds = load_mnist(tmp_path / "my-idx")
    assert ds.name == "unknown"
    assert ds.class_names == tuple(f"class {k}" for k in range(10))


def test_folder_names_identify_a_dataset(tmp_path, rng):
    for folder, key in [("fashion-mnist", "fashion"), ("KMNIST", "kmnist"), ("mnist", "mnist")]:
        write_mnist(tmp_path / folder, rng)
        assert datasets.identify(tmp_path / folder).key == key


def test_unknown_dataset_key_is_one_line():
    with pytest.raises(FetchError, match="unknown dataset 'cifar'"):
        fetch_dataset("cifar")
    assert datasets.info("unknown").class_name(3) == "class 3"
    assert np.asarray(datasets.MNIST.class_names).tolist() == [str(d) for d in range(10)]


def test_saved_networks_carry_their_dataset(tmp_path):
    from digitviz.core.persist import PersistError, load_network, save_network
    from digitviz.core.training import TrainConfig

    cfg = TrainConfig(sizes=(784, 4, 10))
    path = save_network(tmp_path / "n.npz", cfg.network(), cfg, dict(step=3, dataset="fashion"))
    assert load_network(path)[2]["dataset"] == "fashion"
    save_network(tmp_path / "bad.npz", cfg.network(), cfg, dict(dataset=["x"]))
    with pytest.raises(PersistError, match="dataset must be a dataset name"):
        load_network(tmp_path / "bad.npz")


def test_cli_fetch_takes_the_dataset_and_checks_its_official_sums(served, tmp_path, capsys):
    from digitviz.cli import main

    url, _ = served
    assert main(["fetch", "--dataset", "kmnist", "--dest", str(tmp_path / "k"), "--mirror", url]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("digitviz: could not download train-images-idx3-ubyte.gz") and "18165135" in err[-1]
    with pytest.raises(SystemExit) as e:
        main(["fetch", "--dataset", "cifar"])
    assert e.value.code == 2 and "invalid choice" in capsys.readouterr().err
