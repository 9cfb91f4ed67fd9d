"""A few SVG building blocks (scales, ticks, elements) for charts that must render offline with no JavaScript.

The report is a single HTML file opened from disk or attached to a ticket, so charts are inline SVG generated
here rather than a charting library loaded from a CDN. Native `<title>` children give hover tooltips.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from html import escape

FONT = "-apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"


def nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """Round tick values covering [lo, hi] with about `count` steps of 1, 2, 2.5 or 5 x 10^k."""
    if not math.isfinite(lo) or not math.isfinite(hi):
        return [0.0]
    if hi <= lo:
        hi = lo + (abs(lo) or 1.0)
    raw = (hi - lo) / max(count, 1)
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    start = math.floor(lo / step) * step
    ticks: list[float] = []
    value = start
    while value < hi + step * 0.999:
        ticks.append(round(value, 10))
        value += step
    return ticks


class Linear:
    """Maps a numeric domain onto pixel coordinates (either direction)."""

    def __init__(self, domain: tuple[float, float], pixels: tuple[float, float]):
        self.d0, self.d1 = domain
        if self.d1 == self.d0:
            self.d1 = self.d0 + 1.0
        self.p0, self.p1 = pixels

    def __call__(self, value: float) -> float:
        return self.p0 + (value - self.d0) / (self.d1 - self.d0) * (self.p1 - self.p0)


class Bands:
    """Evenly spaced slots for runs 1..n along x, with the centre and width of each slot."""

    def __init__(self, n: int, left: float, right: float, padding: float = 0.2):
        self.n = max(n, 1)
        self.left, self.right = left, right
        self.step = (right - left) / self.n
        self.width = self.step * (1.0 - padding)

    def start(self, index: int) -> float:
        """Left edge of the slot of the 0-based index."""
        return self.left + index * self.step

    def centre(self, index: int) -> float:
        return self.left + (index + 0.5) * self.step


def _attrs(attrs: dict[str, object]) -> str:
    parts = []
    for key, value in attrs.items():
        if value is None or value is False:
            continue
        name = key.rstrip("_").replace("_", "-")
        if isinstance(value, float):
            value = f"{value:.2f}".rstrip("0").rstrip(".")
        parts.append(f'{name}="{escape(str(value), quote=True)}"')
    return " ".join(parts)


class Svg:
    """Collects SVG elements and serialises them as one accessible inline `<svg>` element."""

    def __init__(self, width: int, height: int, label: str):
        self.width, self.height, self.label = width, height, label
        self.parts: list[str] = []

    def add(self, tag: str, title: str | None = None, text: str | None = None, **attrs: object) -> None:
        inner = ""
        if title:
            inner += f"<title>{escape(title)}</title>"
        if text is not None:
            inner += escape(text)
        self.parts.append(f"<{tag} {_attrs(attrs)}>{inner}</{tag}>" if inner else f"<{tag} {_attrs(attrs)}/>")

    def rect(self, x: float, y: float, w: float, h: float, title: str | None = None, **attrs: object) -> None:
        self.add("rect", title=title, x=x, y=y, width=max(w, 0.0), height=max(h, 0.0), **attrs)

    def line(self, x1: float, y1: float, x2: float, y2: float, **attrs: object) -> None:
        self.add("line", x1=x1, y1=y1, x2=x2, y2=y2, **attrs)

    def circle(self, cx: float, cy: float, r: float, title: str | None = None, **attrs: object) -> None:
        self.add("circle", title=title, cx=cx, cy=cy, r=r, **attrs)

    def text(self, x: float, y: float, content: str, **attrs: object) -> None:
        attrs.setdefault("font_size", 12)
        attrs.setdefault("fill", "#334155")
        self.add("text", text=content, x=x, y=y, **attrs)

    def polyline(self, points: Iterable[tuple[float, float]], **attrs: object) -> None:
        pts = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
        self.add("polyline", points=pts, fill="none", **attrs)

    def render(self) -> str:
        body = "".join(self.parts)
        return (
            f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {self.width} {self.height}" '
            f'width="100%" role="img" aria-label="{escape(self.label, quote=True)}" '
            f'font-family="{escape(FONT, quote=True)}">'
            f"<title>{escape(self.label)}</title>{body}</svg>"
        )


def y_axis(svg: Svg, scale: Linear, ticks: Sequence[float], left: float, right: float, fmt) -> None:
    """Horizontal grid lines with labels on the left."""
    for tick in ticks:
        y = scale(tick)
        svg.line(left, y, right, y, stroke="#e2e8f0", stroke_width=1)
        svg.text(left - 8, y + 4, fmt(tick), text_anchor="end", font_size=11, fill="#64748b")


def x_run_axis(svg: Svg, bands: Bands, runs: Sequence[int], y: float) -> None:
    """Run numbers under each slot (every other one when crowded)."""
    every = 1 if len(runs) <= 20 else 2 if len(runs) <= 40 else 5
    for i, run in enumerate(runs):
        if i % every == 0 or i == len(runs) - 1:
            svg.text(bands.centre(i), y, str(run), text_anchor="middle", font_size=11, fill="#64748b")


def fmt_usd(value: float) -> str:
    """Dollars with precision that suits the magnitude ($0.042, $1.37, $215)."""
    if value == 0:
        return "$0"
    if abs(value) < 0.1:
        return f"${value:.3f}"
    if abs(value) < 100:
        return f"${value:.2f}"
    return f"${value:,.0f}"


def fmt_duration(seconds: float) -> str:
    """Seconds as '45 s', '12.5 min' or '1 h 05 min'."""
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 3600:
        minutes = seconds / 60
        return f"{minutes:.0f} min" if minutes >= 10 else f"{minutes:.1f} min"
    hours, rest = divmod(int(round(seconds)), 3600)
    return f"{hours} h {rest // 60:02d} min"
