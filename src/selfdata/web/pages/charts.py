"""Bar charts drawn on the server as inline SVG: no script, readable by screen readers
(the SVG has a <title> and <desc>, and the page shows the same numbers in a table)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["Bar", "BarChart", "bar_chart"]

WIDTH, HEIGHT = 720, 300
_LEFT, _RIGHT, _TOP, _BOTTOM = 64, 12, 16, 40


@dataclass(frozen=True, slots=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str
    value_text: str


@dataclass(frozen=True, slots=True)
class Tick:
    y: float
    text: str


@dataclass(frozen=True, slots=True)
class Label:
    x: float
    text: str


@dataclass(frozen=True, slots=True)
class BarChart:
    width: int
    height: int
    bars: list[Bar]
    ticks: list[Tick]
    labels: list[Label]
    left: int
    bottom: float
    right: float


def _nice_step(top: float, steps: int = 4) -> float:
    raw = top / steps
    magnitude = 10 ** len(str(int(raw))) / 10 if raw >= 1 else 1.0
    for m in (1, 2, 2.5, 5, 10):
        if raw <= m * magnitude:
            return m * magnitude
    return 10 * magnitude


def bar_chart(
    labels: Sequence[str],
    values: Sequence[float | None],
    value_texts: Sequence[str],
    tick_text: object,
    max_labels: int = 12,
) -> BarChart:
    """Geometry of a bar chart; ``tick_text(number) -> str`` formats the axis."""
    fmt = tick_text if callable(tick_text) else str
    plot_w = WIDTH - _LEFT - _RIGHT
    plot_h = HEIGHT - _TOP - _BOTTOM
    top = max((v for v in values if v is not None), default=0.0)
    step = _nice_step(top) if top > 0 else 1.0
    ceiling = step * max(1, -(-top // step))
    n = max(1, len(values))
    slot = plot_w / n
    gap = min(4.0, slot * 0.2)
    bars = []
    for i, (label, value, text) in enumerate(zip(labels, values, value_texts, strict=True)):
        h = 0.0 if value is None or ceiling == 0 else max(0.0, value) / ceiling * plot_h
        bars.append(
            Bar(
                round(_LEFT + i * slot + gap / 2, 2),
                round(_TOP + plot_h - h, 2),
                round(max(0.5, slot - gap), 2),
                round(h, 2),
                label,
                text,
            )
        )
    ticks = [
        Tick(round(_TOP + plot_h - k * step / ceiling * plot_h, 2), str(fmt(k * step)))
        for k in range(int(ceiling / step) + 1)
    ]
    every = max(1, -(-n // max_labels))
    shown = [
        Label(round(_LEFT + i * slot + slot / 2, 2), label)
        for i, label in enumerate(labels)
        if i % every == 0
    ]
    return BarChart(WIDTH, HEIGHT, bars, ticks, shown, _LEFT, _TOP + plot_h, WIDTH - _RIGHT)
