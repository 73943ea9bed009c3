"""The settings panel: the effective learning rate beside the field whenever decay is on; the layer-size parser."""

from dataclasses import replace

import numpy as np
import pytest

from digitviz.core.network import MAX_PARAMS, Layout
from digitviz.core.snapshot import Snapshot, frozen_copy
from digitviz.core.training import PRESETS, Diverged, TrainConfig, Trainer
from digitviz.gui.panels.settings import SettingsPanel, parse_hidden


def snap(config, epoch, generation=0):
    return Snapshot(
        step=0, epoch=epoch, examples_seen=0, theta=frozen_copy(np.zeros(3)), config=config, generation=generation
    )


@pytest.fixture
def panel(shown):
    return shown(SettingsPanel(), 360, 600)


def test_effective_rate_shows_only_with_decay(panel):
    panel.on_snapshot(snap(PRESETS["lesson"], 3))
    assert not panel.effective_lr.isVisible()
    cfg = replace(PRESETS["lesson"], lr=100.0, lr_decay=0.8)
    panel.on_snapshot(snap(cfg, 8, generation=1))
    assert panel.effective_lr.isVisible() and panel.effective_lr.text() == "now 16.78 (after 8 epochs of decay)"
    assert panel.lr.value() == 100.0
    panel.on_snapshot(snap(cfg, 9, generation=1))
    assert panel.effective_lr.text() == "now 13.42 (after 9 epochs of decay)"
    panel.lr.setValue(50.0)  # a live edit: the rate in use follows at once
    assert panel.effective_lr.text() == "now 6.711 (after 9 epochs of decay)"


def test_divergence_names_the_rate_shown(panel, toy_data):
    cfg = TrainConfig(sizes=(784, 16, 10), lr=1.0, lr_decay=0.5, seed=1)
    tr = Trainer(toy_data, cfg)
    tr.run_epoch()
    tr.run_epoch()
    tr.update_config(lr=1e7)
    with pytest.raises(Diverged) as info:
        for _ in range(1000):
            tr.step()
    # the snapshot the worker publishes with the message carries the epoch the step was in
    panel.on_snapshot(snap(tr.config, tr.epoch + tr.epoch_done, generation=1))
    shown = panel.effective_lr.text().removeprefix("now ").split(" (")[0]
    assert shown == f"{1e7 * 0.5**tr.epoch:.4g}" and tr.epoch >= 2
    assert f"learning rate {shown} (the 1e+07 set, after {tr.epoch} epochs of decay)" in str(info.value)


def test_parse_hidden_refuses_networks_beyond_the_parameter_bound():
    assert parse_hidden("16 16") == (16, 16) and parse_hidden("") == ()
    assert parse_hidden("4096") == (4096,)
    assert Layout((784, 4096, 4096, 10)).size > MAX_PARAMS
    assert parse_hidden("4096 4096") is None  # 20 M parameters: could be trained but never loaded again
    assert parse_hidden("0") is None and parse_hidden("abc") is None
