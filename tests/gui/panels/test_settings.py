"""The settings panel's layer-size parser."""

from digitviz.core.network import MAX_PARAMS, Layout
from digitviz.gui.panels.settings import parse_hidden


def test_parse_hidden_refuses_networks_beyond_the_parameter_bound():
    assert parse_hidden("16 16") == (16, 16) and parse_hidden("") == ()
    assert parse_hidden("4096") == (4096,)
    assert Layout((784, 4096, 4096, 10)).size > MAX_PARAMS
    assert parse_hidden("4096 4096") is None  # 20 M parameters: could be trained but never loaded again
    assert parse_hidden("0") is None and parse_hidden("abc") is None
