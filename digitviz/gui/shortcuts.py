"""Every keyboard shortcut of the app, in one table, each with one meaning, all window-wide.

:data:`SHORTCUTS` lists every key: what it does (the text F1 shows), who owns it (``"window"``, a
panel's registry name from :mod:`digitviz.gui.panels`, or ``"dock"`` for the View menu's dock toggles)
and the owner's method it calls (for ``"dock"``: the panel's name). Nothing else in the app binds a key.

- A panel calls :func:`install` on itself: one ``QAction`` per key it owns, in the window-shortcut
  context, so the key works in a panel shown on its own (tests) and, once the main window adopts the
  actions (:func:`adopt`), anywhere in the main window whatever has focus, the panel's dock included
  when it sits behind another tab.
- :func:`let_shortcuts_through` keeps text fields from swallowing them: a spin box keeps its digits,
  sign and decimal point, a line edit with a validator the characters it accepts, and both keep the
  editing keys (arrows, Backspace, Delete, Home, End, Enter); every other key goes to its shortcut.

Imports: PySide6 only.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QAction, QKeySequence, QValidator
from PySide6.QtWidgets import QAbstractSpinBox, QLineEdit, QWidget


@dataclass(frozen=True)
class Shortcut:
    keys: tuple[str, ...]  # QKeySequence strings; the first is the one tooltips name
    text: str  # what it does, as F1 lists it
    owner: str  # "window", "dock" or a panel's registry name
    slot: str  # the owner's method (for "dock": the panel's registry name)


SHORTCUTS: tuple[Shortcut, ...] = (
    # training (the main window)
    Shortcut(("Space",), "Play / pause training", "window", "toggle_play"),
    Shortcut(("Right",), "Step: one mini-batch of gradient descent", "window", "step_once"),
    Shortcut(("Shift+Right", "Ctrl+Right"), "Train to the end of the epoch, then test", "window", "step_epoch"),
    Shortcut(("Ctrl+R",), "Reset the network (new random weights)", "window", "reset_network"),
    # files
    Shortcut(("Ctrl+O",), "Open a data folder", "window", "open_data_folder"),
    Shortcut(("Ctrl+S",), "Save the network", "window", "save_network_dialog"),
    Shortcut(("Ctrl+L",), "Load a network", "window", "load_network_dialog"),
    Shortcut(("Ctrl+E",), "Export the diagram as PNG", "window", "export_png_dialog"),
    Shortcut(("Ctrl+Q",), "Quit", "window", "close"),
    # view
    Shortcut(("Ctrl+G",), "Colour connections by −gradient (on / off)", "window", "set_gradient_edges"),
    Shortcut(
        ("W",), "Diagram: what each neuron wants, backprop of the example shown (on / off)", "window", "set_wants_mode"
    ),
    Shortcut(("F1",), "List every shortcut (this table)", "window", "show_shortcuts"),
    Shortcut(("F11",), "Presentation mode for a projector (on / off)", "window", "toggle_presentation"),
    Shortcut(("Escape",), "Leave presentation mode", "window", "leave_presentation"),
    # the lesson tour
    Shortcut(("PgDown",), "Lesson tour: next chapter", "lesson", "next"),
    Shortcut(("PgUp",), "Lesson tour: previous chapter", "lesson", "back"),
    # the input panel
    Shortcut(("C",), "Input: clear the drawing", "input", "clear"),
    Shortcut(("Ctrl+Z",), "Input: undo the last stroke", "input", "undo"),
    Shortcut(("N",), "Input: uniform noise", "input", "show_uniform_noise"),
    Shortcut(("G",), "Input: Gaussian noise", "input", "show_gaussian_noise"),
    Shortcut(("B",), "Input: blank image", "input", "show_blank"),
    Shortcut(("[",), "Input: previous test digit", "input", "previous_test_digit"),
    Shortcut(("]",), "Input: next test digit", "input", "next_test_digit"),
    Shortcut(("R",), "Input: random test digit", "input", "random_test_digit"),
    Shortcut(("M",), "Input: next test digit the network gets wrong", "input", "next_mistake"),
    Shortcut(("O",), "Input: open a picture of a digit", "input", "open_image_dialog"),
    Shortcut(("F",), "Input: follow training again", "input", "follow_training"),
    # the probe
    Shortcut(("P",), "Overconfidence probe: run it now", "probe", "probe_now"),
    # docks (View menu)
    Shortcut(("Ctrl+0",), "Show / hide Lesson", "dock", "lesson"),
    Shortcut(("Ctrl+1",), "Show / hide Settings", "dock", "settings"),
    Shortcut(("Ctrl+2",), "Show / hide Learning curves", "dock", "curves"),
    Shortcut(("Ctrl+3",), "Show / hide Input", "dock", "input"),
    Shortcut(("Ctrl+4",), "Show / hide Hidden-neuron weights", "dock", "weights"),
    Shortcut(("Ctrl+5",), "Show / hide Overconfidence probe", "dock", "probe"),
    Shortcut(("Ctrl+6",), "Show / hide Cost landscape", "dock", "landscape"),
    Shortcut(("Ctrl+7",), "Show / hide Experiments", "dock", "experiments"),
    Shortcut(("Ctrl+8",), "Show / hide Draw & move", "dock", "claims"),
)

OWNER_PROPERTY = "digitviz_shortcut_owner"  # set on every QAction made by install()


def owned_by(owner: str) -> list[Shortcut]:
    return [s for s in SHORTCUTS if s.owner == owner]


_MISSING = object()


def keys_for(owner: str, slot: str, default=_MISSING) -> tuple[str, ...]:
    """The keys of ``owner.slot``; KeyError when the table has none (unless a ``default`` is given)."""
    for s in SHORTCUTS:
        if s.owner == owner and s.slot == slot:
            return s.keys
    if default is _MISSING:
        raise KeyError(f"no shortcut for {owner}.{slot}")
    return default


def key_text(keys) -> str:
    """``("Shift+Right", "Ctrl+Right")`` -> ``"Shift+Right or Ctrl+Right"`` in the platform's spelling."""
    return " or ".join(QKeySequence(k).toString(QKeySequence.NativeText) for k in keys)


def with_keys(tip: str, owner: str, slot: str) -> str:
    """A tooltip that names the key: ``"Erase the drawing (C)"``."""
    return f"{tip} ({key_text(keys_for(owner, slot))})"


def install(widget: QWidget, owner: str) -> list[QAction]:
    """One window-wide QAction on ``widget`` per key ``owner`` has in the table, calling ``widget.<slot>()``.

    The method is looked up now (AttributeError if the table names one the widget lacks) and again
    when the key is pressed (so a test may replace it).
    """
    actions = []
    for s in owned_by(owner):
        getattr(widget, s.slot)  # loud: the table and the widget must agree
        a = QAction(s.text, widget)
        a.setShortcuts([QKeySequence(k) for k in s.keys])
        a.setShortcutContext(Qt.WindowShortcut)
        a.setProperty(OWNER_PROPERTY, owner)
        a.triggered.connect(lambda _checked=False, w=widget, name=s.slot: getattr(w, name)())
        widget.addAction(a)
        actions.append(a)
    return actions


def adopt(window: QWidget, panel: QWidget, on_trigger=None) -> list[QAction]:
    """Move the shortcut actions ``panel`` installed onto ``window``: they then work wherever focus is.

    A hidden widget's shortcuts never fire, and a dock tabbed behind another is hidden; the window is
    always shown. ``on_trigger()`` runs after each (e.g. to raise the panel's dock).
    """
    moved = []
    for a in list(panel.actions()):
        if a.property(OWNER_PROPERTY):
            panel.removeAction(a)
            window.addAction(a)
            if on_trigger is not None:
                a.triggered.connect(lambda _checked=False: on_trigger())
            moved.append(a)
    return moved


SPIN_CHARS = frozenset("0123456789.,-+")
EDIT_KEYS = frozenset(
    (
        Qt.Key_Left,
        Qt.Key_Right,
        Qt.Key_Up,
        Qt.Key_Down,
        Qt.Key_Home,
        Qt.Key_End,
        Qt.Key_Backspace,
        Qt.Key_Delete,
        Qt.Key_Return,
        Qt.Key_Enter,
        Qt.Key_Escape,
        Qt.Key_Tab,
        Qt.Key_Backtab,
        Qt.Key_PageUp,
        Qt.Key_PageDown,
    )
)
_COMMAND = Qt.ControlModifier | Qt.AltModifier | Qt.MetaModifier


class _FieldKeys(QObject):
    """Refuses a text field's claim (ShortcutOverride) on keys it cannot use, so their shortcut fires."""

    def eventFilter(self, obj, ev):
        if ev.type() != QEvent.ShortcutOverride:
            return False
        mods = ev.modifiers()
        command = bool(mods & _COMMAND)
        if ev.key() in EDIT_KEYS and not command:
            return False  # arrows, Backspace, ...: the field's own
        text = ev.text()
        if text and not command and _accepts(obj, text):
            return False  # a digit in a spin box, a space in the hidden-layers field
        ev.ignore()
        return True  # not the field's: the key's shortcut fires (if it has none, the key press still arrives)


def _accepts(obj, text: str) -> bool:
    spin = obj if isinstance(obj, QAbstractSpinBox) else obj.parent()
    if isinstance(spin, QAbstractSpinBox):
        return all(c in SPIN_CHARS for c in text)
    validator = obj.validator() if isinstance(obj, QLineEdit) else None
    if validator is None:
        return True
    state = validator.validate(text, 0)
    state = state[0] if isinstance(state, tuple) else state
    return state != QValidator.State.Invalid


def let_shortcuts_through(root: QWidget) -> int:
    """Install the field filter on every spin box and validated line edit under ``root``; returns how many.

    Free-text line edits (no validator) keep every key.
    """
    filt = root.findChild(_FieldKeys, "digitviz_field_keys")
    if filt is None:
        filt = _FieldKeys(root)
        filt.setObjectName("digitviz_field_keys")
    n = 0
    for sb in root.findChildren(QAbstractSpinBox):
        for w in (sb, sb.lineEdit()):
            if w is not None and not w.property("digitviz_field_keys"):
                w.installEventFilter(filt)
                w.setProperty("digitviz_field_keys", True)
                n += 1
    for le in root.findChildren(QLineEdit):
        if (
            le.validator() is not None
            and not isinstance(le.parent(), QAbstractSpinBox)
            and not le.property("digitviz_field_keys")
        ):
            le.installEventFilter(filt)
            le.setProperty("digitviz_field_keys", True)
            n += 1
    return n
