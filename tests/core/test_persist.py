import json

import numpy as np
import pytest

from digitviz.core.persist import PersistError, load_network, save_network
from digitviz.core.training import TrainConfig


def test_round_trip(tmp_path):
    cfg = TrainConfig(sizes=(784, 12, 10), activation="tanh", cost="cross_entropy", lr=0.3, seed=4)
    net = cfg.network()
    p = save_network(tmp_path / "net", net, cfg, {"step": 17})
    assert p.name == "net.npz" and not list(tmp_path.glob("*.part"))
    net2, cfg2, meta = load_network(p)
    assert np.array_equal(net2.theta, net.theta) and net2.theta.dtype == net.theta.dtype
    assert cfg2 == cfg and meta == {"step": 17}
    x = np.random.default_rng(0).random((3, 784))
    np.testing.assert_array_equal(net2.feedforward(x), net.feedforward(x))


def _write(tmp_path, **arrays):
    p = tmp_path / "x.npz"
    np.savez(p, **arrays)
    return p


def test_rejections(tmp_path):
    cfg = TrainConfig(sizes=(784, 5, 10))
    good = save_network(tmp_path / "good.npz", cfg.network(), cfg)
    data = good.read_bytes()
    (tmp_path / "trunc.npz").write_bytes(data[: len(data) // 2])
    with pytest.raises(PersistError, match="trunc.npz: not a readable"):
        load_network(tmp_path / "trunc.npz")
    (tmp_path / "junk.npz").write_bytes(b"hello world")
    with pytest.raises(PersistError, match="junk.npz"):
        load_network(tmp_path / "junk.npz")
    with pytest.raises(PersistError, match="not a digitviz network"):
        load_network(_write(tmp_path, a=np.zeros(3)))
    with pytest.raises(PersistError, match="needs"):
        load_network(_write(tmp_path, format=np.array("digitviz-network"), version=np.array(1),
                            config=np.array(json.dumps(cfg.to_dict())), meta=np.array("{}"),
                            theta=np.zeros(7, np.float32)))
    with pytest.raises(PersistError, match="newer"):
        load_network(_write(tmp_path, format=np.array("digitviz-network"), version=np.array(99),
                            config=np.array("{}"), meta=np.array("{}"), theta=np.zeros(1)))
    bad = cfg.network().theta
    bad[3] = np.nan
    with pytest.raises(PersistError, match="NaN"):
        load_network(_write(tmp_path, format=np.array("digitviz-network"), version=np.array(1),
                            config=np.array(json.dumps(cfg.to_dict())), meta=np.array("{}"), theta=bad))
    # an object array would need pickle: refused, not executed
    with pytest.raises(PersistError):
        load_network(_write(tmp_path, format=np.array("digitviz-network"), version=np.array(1),
                            config=np.array([{"a": 1}], dtype=object), meta=np.array("{}"), theta=bad))
    with pytest.raises(PersistError, match="no such file"):
        load_network(tmp_path / "absent.npz")
