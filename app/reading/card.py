"""Frames the screens are built from: the centred card of the calm screens (launcher,
sign-in, sessions, summary) and the fixed-width side panels of the reading screens."""

from __future__ import annotations

from PySide6.QtWidgets import QFrame, QHBoxLayout, QVBoxLayout, QWidget


def centred_card(
    screen: QWidget, width: int, margins: tuple[int, int, int, int] = (28, 24, 28, 24), *, grow: bool = False
) -> tuple[QFrame, QVBoxLayout]:
    """Put a card ``width`` wide (at least, with ``grow``) in the middle of ``screen``;
    return it and its column layout.

    The card is centred with stretches rather than an alignment flag: an aligned
    layout item gets its plain size hint, without height-for-width, so wrapped
    labels in the card would be squeezed and slide under the widgets below.
    """
    card = QFrame()
    card.setObjectName("card")
    if grow:
        card.setMinimumWidth(width)
    else:
        card.setFixedWidth(width)
    col = QVBoxLayout(card)
    col.setContentsMargins(*margins)
    col.setSpacing(10)
    row = QHBoxLayout()
    row.addStretch(1)
    row.addWidget(card)
    row.addStretch(1)
    outer = QVBoxLayout(screen)
    outer.addStretch(1)
    outer.addLayout(row)
    outer.addStretch(2)
    return card, col


def side_panel(name: str, width: int, margins: tuple[int, int], spacing: int) -> tuple[QFrame, QVBoxLayout]:
    """A fixed-width column styled by ``name`` in the stylesheet (answer panel, triage queue);
    ``margins`` is (horizontal, vertical)."""
    panel = QFrame()
    panel.setObjectName(name)
    panel.setFixedWidth(width)
    col = QVBoxLayout(panel)
    col.setContentsMargins(margins[0], margins[1], margins[0], margins[1])
    col.setSpacing(spacing)
    return panel, col
