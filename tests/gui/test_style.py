"""The theme's files come from the package (digitviz/resources/); a missing one is an error, never a fallback."""

import pytest

from digitviz.gui import style


def test_every_icon_and_the_stylesheet_load(qapp):
    assert "QWidget" in style.stylesheet()
    for name in style.ICONS:
        assert not style.icon(name).isNull(), name
        assert style.resource("icons", f"{name}.svg").is_file()


def test_a_missing_resource_raises_and_names_it():
    with pytest.raises(FileNotFoundError, match="resources/icons/nope.svg"):
        style.resource("icons", "nope.svg")


def test_resources_are_looked_up_in_the_package_not_beside_it(monkeypatch, tmp_path):
    # importlib.resources decides: a package whose files are elsewhere (an install) is where they are read
    from importlib import resources

    monkeypatch.setattr(resources, "files", lambda pkg: tmp_path)
    with pytest.raises(FileNotFoundError):
        style.resource("style.qss")
    (tmp_path / "resources").mkdir()
    (tmp_path / "resources" / "style.qss").write_text("QWidget {}")
    assert style.resource("style.qss") == tmp_path / "resources" / "style.qss"
