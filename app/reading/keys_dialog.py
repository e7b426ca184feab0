"""The key card of the reading screens (F1 or ?): answer keys, screen keys, viewer keys.

Built from what the screen really routes: the answer keys of the protocol's
task (``answer_keys``), the screen's own keys, and the viewer's bindings
(``app.viewer.keys.VIEWER_KEYS``) minus the keys the answer form takes first.
Only keys that act on the study and case on screen are listed: no AI region
keys in an unaided read, no slice or cine keys for a single photo, no
maximise key with one viewport (``viewer_features``).
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QHideEvent, QKeyEvent, QKeySequence, QShowEvent
from PySide6.QtWidgets import (
    QDialog,
    QGridLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.viewer.keys import viewer_keys_for
from study.protocol import Task

ARROWS = {"Up": "\u2191", "Down": "\u2193", "Left": "\u2190", "Right": "\u2192"}


def answer_keys(task: Task, aided: bool = True) -> tuple[tuple[str, str], ...]:
    """(key text, what it does) of the answer form of ``task``; arrows in QKeySequence text.

    ``aided``: the read shows the AI (a region task's A / O act on the AI's region only then)."""
    if task.kind == "region":
        keys = (
            ("V", f"outline tool: click points around the {task.region}, drag a vertex to move it"),
            ("B", "brush: paint onto the region"),
            ("E", "eraser: paint off the region"),
            ("N", "a new outline (clears the region on this image or slice)"),
            ("Ctrl+Z", "undo the last edit (while placing points: the last point)"),
        )
        if aided:
            keys += (("A", "the AI's region on / off"), ("O", "the AI's region as outline, fill or both"))
        if task.also == "binary":
            neg, pos = task.labels
            keys += (("1", neg), ("2", pos), ("Up", f"likelihood of {pos} up"), ("Down", f"likelihood of {pos} down"))
        return keys
    if task.kind == "binary":
        neg, pos = task.labels
        return (
            ("1", neg),
            ("2", pos),
            ("Left", neg),
            ("Right", pos),
            ("Up", f"likelihood of {pos} up"),
            ("Down", f"likelihood of {pos} down"),
        )
    if task.kind == "multiclass":
        return (
            *((str(i + 1), label) for i, label in enumerate(task.labels)),
            ("Up", "previous class"),
            ("Down", "next class"),
        )
    if task.kind == "grade_distribution":
        return (
            *((str(i + 1), f"grade {g}") for i, g in enumerate(task.grades)),
            ("Left", "previous grade"),
            ("Right", "next grade"),
        )
    return (("0-9 . ,", "type the value"), ("Up", "value up one step"), ("Down", "value down one step"))


def screen_keys(has_cam: bool) -> tuple[tuple[str, str], ...]:
    keys = [("Enter", "submit and show the next case"), ("P", "pause / resume (the clock stops)")]
    if has_cam:
        keys.append(("C", "heat map on / off"))
    keys += [("F1", "this card (open / close)"), ("?", "this card (open / close)")]
    return tuple(keys)


def viewer_keys(task: Task, features: frozenset[str] | None = None) -> tuple[tuple[str, str], ...]:
    """The viewer keys that act on what is shown (``features``, see ``app.viewer.keys``; None:
    all of them), without the keys the answer form of ``task`` takes first and C / P, which
    the screen's own section lists."""
    taken = {k for k, _ in answer_keys(task)}  # the answer form takes these whether aided or not
    return tuple((k, d) for k, d in viewer_keys_for(features) if k not in taken and k.upper() not in {"C", "P"})


def key_label(text: str) -> str:
    """How a key is written on the card: arrows as glyphs, the rest as Qt writes them."""
    if text in ARROWS:
        return ARROWS[text]
    seq = QKeySequence.fromString(text, QKeySequence.SequenceFormat.PortableText)
    shown = seq.toString(QKeySequence.SequenceFormat.NativeText)
    return shown if shown and len(text) > 1 and seq.count() == 1 else text


class KeysDialog(QDialog):
    """A non-modal card; Esc, F1 or ? closes it (the reading screen's keys are not routed here)."""

    def __init__(
        self,
        task: Task,
        has_cam: bool,
        parent: QWidget | None = None,
        gallery_fields: int = 0,
        *,
        aided: bool = True,
        viewer_features: frozenset[str] | None = None,
    ) -> None:
        """``gallery_fields``: tiles of a specimen's gallery on screen (triage); digits then show
        fields and Ctrl+digit answers.  ``aided``: the read shows the AI; ``viewer_features``:
        what the viewer keys can act on (``HangingLayoutWidget.key_features``; None: all)."""
        super().__init__(parent)
        self.setObjectName("keysDialog")
        self.setWindowTitle("Keys")
        col = QVBoxLayout(self)
        col.setContentsMargins(24, 20, 24, 20)
        col.setSpacing(10)
        title = QLabel("Keys of the reading screen")
        title.setObjectName("questionLabel")
        col.addWidget(title)
        self.sections: dict[str, tuple[tuple[str, str], ...]] = {
            "Answer": answer_keys(task, aided),
            "Screen": screen_keys(has_cam),
            "Viewer": viewer_keys(task, viewer_features),
        }
        if gallery_fields:
            self.sections["Answer"] = tuple(
                (f"Ctrl+{k}" if k.isdigit() else k, what) for k, what in self.sections["Answer"]
            )
            self.sections = {
                "Fields of the slide": (
                    (f"1-{gallery_fields}", "show that field full size (as in the strip under the image)"),
                    ("D", "mark the field on screen as the one that decided your answer"),
                ),
                **self.sections,
            }
        grid = QGridLayout()
        grid.setHorizontalSpacing(18)
        grid.setVerticalSpacing(4)
        row = 0
        for title, keys in self.sections.items():
            if not keys:
                continue
            head = QLabel(title)
            head.setObjectName("panelTitle")
            grid.addWidget(head, row, 0, 1, 2)
            row += 1
            for key, what in keys:
                k = QLabel(key_label(key))
                k.setObjectName("keyCap")
                grid.addWidget(k, row, 0, alignment=Qt.AlignmentFlag.AlignRight)
                grid.addWidget(QLabel(what), row, 1)
                row += 1
            grid.setRowMinimumHeight(row, 8)
            row += 1
        col.addLayout(grid)
        if viewer_features is None or "frames" in viewer_features:
            mouse = QLabel("Mouse wheel over an image: next / previous slice.")
            mouse.setObjectName("hint")
            mouse.setWordWrap(True)
            col.addWidget(mouse)
        close = QPushButton("Close")
        close.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        close.clicked.connect(self.close)
        col.addWidget(close, alignment=Qt.AlignmentFlag.AlignRight)

    def texts(self) -> list[str]:
        return [w.text() for w in self.findChildren(QLabel)]

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt override
        if event.key() in (Qt.Key.Key_F1, Qt.Key.Key_Question, Qt.Key.Key_Escape) or event.text() == "?":
            self.close()
            event.accept()
            return
        super().keyPressEvent(event)

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt override
        # Ask for the keyboard: without a window manager (kiosk, Xvfb) a new window is not
        # given focus, and Esc / F1 / ? typed at the card would go to the screen behind it.
        super().showEvent(event)
        self.activateWindow()

    def hideEvent(self, event: QHideEvent) -> None:  # noqa: N802 - Qt override
        # Hand the keyboard back to the reading screen, so the next answer key reaches it.
        super().hideEvent(event)
        parent = self.parentWidget()
        if parent is not None and parent.isVisible():
            parent.window().activateWindow()
