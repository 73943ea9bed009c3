"""The app driver: the few things a panel may ask the app to do, without knowing the other panels.

A panel never imports another panel. The Lesson panel's *Show me* must still reset the network,
take a step, feed a test digit or bring a panel to the front: it does so through an
:class:`AppDriver`, which the main window provides (:class:`WindowDriver`) and hands to every panel
that has a ``set_driver(driver)`` method. Tests can hand a panel any object with these methods.

Views of other panels are reached through named hooks: ``driver.hooks["ask_to_draw"] = callable``
registers one (:func:`install` registers ``ask_to_draw`` and ``shift_view`` on the Draw & move and input
panels); without one, :meth:`WindowDriver.hook` tries a panel method of that name, and returns False when
none exists.

Imports: NumPy, PySide6 (QtCore), :mod:`digitviz.core`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Protocol, runtime_checkable

import numpy as np
from PySide6.QtCore import QObject, Signal, Slot

from digitviz.core.training import PRESETS, TrainConfig, preset_of

HOOKS = ("ask_to_draw", "shift_view")  # views of the claims issue (registered by install)


@runtime_checkable
class AppDriver(Protocol):
    """What a panel may ask of the app. Every method runs on the GUI thread and returns at once
    (training commands take effect on the worker thread a moment later)."""

    def latest(self):
        """The latest :class:`~digitviz.core.snapshot.Snapshot`, or None."""

    def dataset(self):
        """The loaded Dataset, or None."""

    def shown_input(self):
        """``(x (784,), label)`` of the input on the diagram, or None."""

    def path(self):
        """``(steps (K,), thetas (K, P))`` of the descent path so far (thetas None when empty)."""

    def last_step(self):
        """``(generation, step, cost_before, cost_after)`` of the last single step, or None."""

    def reset(self, preset: str = "lesson") -> bool:
        """New weights from the current seed with ``preset``'s settings; asks before losing a trained
        network. False when the user said no (nothing changed)."""

    def step(self, n: int = 1) -> None: ...

    def play(self) -> None: ...

    def pause(self) -> None: ...

    def set_speed(self, bps) -> bool:
        """Training speed in batches per second (None: as fast as it goes); False if the app has no control."""

    def raise_panel(self, name: str, tab: str | None = None) -> bool:
        """Show panel ``name`` (a PanelSpec name) in front of its tab group; ``tab`` for a panel with tabs."""

    def feed_test_digit(self, index: int) -> bool: ...

    def feed_image(self, x, label: int = -1) -> bool: ...

    def set_weights_mode(self, mode: str) -> bool: ...

    def select_neuron(self, layer: int, index: int) -> None: ...

    def hook(self, name: str, *args) -> bool:
        """Call the named hook (see ``HOOKS``); False when the app has no such view yet."""


class WindowDriver(QObject):
    """:class:`AppDriver` for the main window: acts through its controller, docks and panels.

    Parameters
    ----------
    window : MainWindow
        Uses ``controller``, ``panels``, ``docks``, ``diagram``, ``reset_network``, ``step_once`` and
        ``_user_input`` (the input the diagram shows).

    Signals
    -------
    acted(str)
        After each action, its name (tests and the presentation mode listen).
    """

    acted = Signal(str)

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.hooks: dict[str, Callable] = {}
        self._last_step = None
        window.controller.step_reported.connect(self._on_step_report)

    @Slot(object)
    def _on_step_report(self, snap):
        r = snap.step_report
        self._last_step = (snap.generation, snap.step, float(r.cost_before), float(r.cost_after))

    # reading

    def latest(self):
        return self.window.controller.latest

    def dataset(self):
        return self.window.dataset

    def shown_input(self):
        user = getattr(self.window, "_user_input", None)
        if user is not None:
            return user
        snap = self.latest()
        if snap is not None and snap.example is not None:
            return snap.example, snap.example_label
        return None

    def path(self):
        return self.window.controller.path()

    def last_step(self):
        snap = self.latest()
        if self._last_step is None or snap is None or self._last_step[0] != snap.generation:
            return None
        return self._last_step

    # acting

    def config_for(self, preset: str) -> TrainConfig:
        """``preset``'s settings with the live run's seed (so Show me starts from the user's seed)."""
        return replace(PRESETS[preset], seed=self.window.controller.config.seed)

    def reset(self, preset: str = "lesson") -> bool:
        config = self.config_for(preset)
        ok = bool(self.window.reset_network(config))  # asks via window.confirm when a trained run would be lost
        if ok:
            self.acted.emit("reset")
        return ok

    def step(self, n: int = 1):
        for _ in range(int(n)):
            self.window.step_once()
        self.acted.emit("step")

    def play(self):
        if not self.window.controller.running:
            self.window.controller.play()
        self.acted.emit("play")

    def pause(self):
        if self.window.controller.running:
            self.window.controller.pause()
        self.acted.emit("pause")

    def set_speed(self, bps) -> bool:
        """The toolbar's Speed slider at ``bps`` batches per second (None: as fast as it goes)."""
        from .actions import SPEEDS

        slider = getattr(self.window, "speed", None)
        if slider is None or bps not in SPEEDS:
            return False
        slider.setValue(SPEEDS.index(bps))
        self.acted.emit("speed")
        return True

    def raise_panel(self, name: str, tab: str | None = None) -> bool:
        dock = self.window.docks.get(name)
        if dock is None:
            return False
        dock.show()
        dock.raise_()
        panel = self.window.panels[name]
        if tab is not None and hasattr(panel, "show_tab"):
            panel.show_tab(tab)
        self.acted.emit(f"raise {name}")
        return True

    def _panel_with(self, method: str):
        for panel in self.window.panels.values():
            if hasattr(panel, method):
                return panel
        return None

    def feed_test_digit(self, index: int) -> bool:
        panel = self._panel_with("show_test_digit")
        ds = self.dataset()
        if panel is not None:
            panel.show_test_digit(index)
        elif ds is not None:
            x = ds.images_as("test", np.float32)[index]
            self.window.show_input(x, int(ds.test_labels[index]))
        else:
            return False
        self.acted.emit("feed")
        return True

    def feed_image(self, x, label: int = -1) -> bool:
        x = np.asarray(x, np.float32)
        panel = self.window.panels.get("input")
        if panel is not None:  # as the experiments -> input wire: the input panel shows it and announces it
            panel.show_image(x, int(label))
        else:
            self.window.show_input(x, int(label))
        self.acted.emit("feed")
        return True

    def set_weights_mode(self, mode: str) -> bool:
        panel = self._panel_with("set_mode") if "weights" not in self.window.panels else self.window.panels["weights"]
        if panel is None or not hasattr(panel, "set_mode"):
            return False
        panel.set_mode(mode)
        return True

    def select_neuron(self, layer: int, index: int):
        if hasattr(self.window.diagram, "select_neuron"):
            self.window.diagram.select_neuron(layer, index)
        weights = self.window.panels.get("weights")
        if layer == 1 and weights is not None:  # as the diagram -> weights wire: the tile is highlighted
            weights.select_neuron(index)

    def hook(self, name: str, *args) -> bool:
        fn = self.hooks.get(name)
        if fn is None:
            panel = self._panel_with(name)
            fn = getattr(panel, name, None) if panel is not None else None
        if fn is None:
            return False
        fn(*args)
        self.acted.emit(name)
        return True

    def preset_name(self) -> str:
        return preset_of(self.window.controller.config)


def _claims_hooks(driver: WindowDriver, window):
    """The tour's two hooks, on the Draw & move panel and the input panel (chapters 7 and 8)."""
    from digitviz.core import tour

    claims, inp = window.panels.get("claims"), window.panels.get("input")
    if claims is not None:

        def ask_to_draw(k=3):
            driver.raise_panel("claims", "draw")
            claims.ask_to_draw(k)  # from the input panel's image: the tour's noise

        driver.hooks["ask_to_draw"] = ask_to_draw
    if inp is not None:

        def shift_view():
            # the moved digit as a move of the test digit: the input panel's Reset puts it back
            inp.show_test_digit(tour.SHIFT_DIGIT)
            inp.move_by(tour.SHIFT_PIXELS, 0)
            if claims is not None:
                claims.measure_robustness()  # its curves wait in the Draw & move panel's Robustness tab

        driver.hooks["shift_view"] = shift_view


def install(window) -> WindowDriver:
    """Give ``window`` its driver: hand it to every panel with ``set_driver``, and add Help ▸ Lesson tour.

    Called once by the main window after its docks and menus exist (one self-contained hook).
    """
    from PySide6.QtGui import QAction

    driver = WindowDriver(window)
    _claims_hooks(driver, window)
    for name, panel in window.panels.items():
        if window.specs[name].driven:
            panel.set_driver(driver)
    if "lesson" in window.docks:
        act = QAction("Lesson Tour", window)
        act.setStatusTip("Open the guided tour of the lesson, on your own run")
        act.triggered.connect(lambda: driver.raise_panel("lesson"))
        window.act_lesson = act
        help_menu = next((a.menu() for a in window.menuBar().actions() if a.text().replace("&", "") == "Help"), None)
        if help_menu is not None:
            first = help_menu.actions()[0] if help_menu.actions() else None
            help_menu.insertAction(first, act)
            if first is not None:
                help_menu.insertSeparator(first)
    return driver
