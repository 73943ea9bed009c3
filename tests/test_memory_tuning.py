"""digitviz.memory: the allocator setting is applied on glibc Linux and skipped elsewhere."""

import sys

import pytest

from digitviz import memory


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc only")
def test_the_mmap_threshold_is_set_on_linux():
    assert memory.release_large_allocations() is True


def test_other_platforms_are_left_alone(monkeypatch):
    monkeypatch.setattr(memory.sys, "platform", "darwin")
    assert memory.release_large_allocations() is False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc only")
def test_trim_runs_on_linux():
    assert memory.trim() is True


def test_trim_leaves_other_platforms_alone(monkeypatch):
    monkeypatch.setattr(memory.sys, "platform", "darwin")
    assert memory.trim() is False
