"""Draw the shelf icons and the node icon into ``icons/``, and list them in icons/README.md.

    python tools/draw_icons.py [OUT_DIR]

Flat glyphs on a transparent background in one palette: light grey shapes that read on
Maya's dark shelf, teal for what the product computes, amber for tags. Each icon is drawn on
a 32-unit grid at 4x its size and downsampled with a Lanczos filter (in premultiplied alpha,
so edges get no dark fringe). Only Pillow's drawing primitives are used, no fonts: the
output is the same on every run and every machine.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw

LIGHT = (222, 226, 231, 255)
DIM = (128, 136, 145, 255)
TEAL = (47, 190, 201, 255)
AMBER = (246, 180, 60, 255)
CLEAR = (0, 0, 0, 0)  # drawing with it cuts a hole
SUPERSAMPLE = 4

Point = tuple[float, float]
Color = tuple[int, int, int, int]


class Pen:
    """ImageDraw on the 32-unit grid: every coordinate and width is scaled to the canvas."""

    def __init__(self, image: Image.Image) -> None:
        self.draw = ImageDraw.Draw(image)
        self.k = image.width / 32

    def _xy(self, points: Sequence[Point]) -> list[tuple[float, float]]:
        return [(x * self.k, y * self.k) for x, y in points]

    def polygon(self, points: Sequence[Point], fill: Color) -> None:
        self.draw.polygon(self._xy(points), fill=fill)

    def line(self, points: Sequence[Point], color: Color, width: float) -> None:
        self.draw.line(self._xy(points), fill=color, width=round(width * self.k), joint="curve")
        r = width / 2  # round caps
        for x, y in (points[0], points[-1]):
            self.circle((x, y), r, color)

    def circle(self, center: Point, radius: float, fill: Color) -> None:
        x, y = center
        self.draw.ellipse(self._xy([(x - radius, y - radius), (x + radius, y + radius)]), fill)

    def ring(self, center: Point, radius: float, color: Color, width: float) -> None:
        x, y = center
        box = self._xy([(x - radius, y - radius), (x + radius, y + radius)])
        self.draw.ellipse(box, outline=color, width=round(width * self.k))

    def box(
        self,
        corners: Sequence[Point],
        radius: float,
        fill: Color | None = None,
        outline: Color | None = None,
        width: float = 0,
    ) -> None:
        self.draw.rounded_rectangle(
            self._xy(corners),
            radius=radius * self.k,
            fill=fill,
            outline=outline,
            width=round(width * self.k),
        )


def rotated(points: Sequence[Point], center: Point, degrees: float) -> list[Point]:
    cx, cy = center
    a = math.radians(degrees)
    cos, sin = math.cos(a), math.sin(a)
    return [(cx + x * cos - y * sin, cy + x * sin + y * cos) for x, y in points]


def tag(pen: Pen, center: Point, length: float, height: float, degrees: float, fill: Color,
        gap: float = 0) -> None:  # fmt: skip
    """A luggage tag centred on ``center``, its point towards ``degrees`` (0: left), a hole
    near the point; ``gap`` first clears a margin around it so it stands off what is below."""
    h = height / 2
    tip = height * 0.55
    outline = [(-length / 2, 0), (-length / 2 + tip, -h), (length / 2, -h),
               (length / 2, h), (-length / 2 + tip, h)]  # fmt: skip
    if gap:
        g = gap
        grown = [(-length / 2 - g * 1.4, 0), (-length / 2 + tip - g * 0.4, -h - g),
                 (length / 2 + g, -h - g), (length / 2 + g, h + g),
                 (-length / 2 + tip - g * 0.4, h + g)]  # fmt: skip
        pen.polygon(rotated(grown, center, degrees), CLEAR)
    pen.polygon(rotated(outline, center, degrees), fill)
    (hole,) = rotated([(-length / 2 + tip * 0.95, 0)], center, degrees)
    pen.circle(hole, height * 0.14, CLEAR)


# --- the icons, on the 32-unit grid ---------------------------------------------------------


def classify(pen: Pen) -> None:
    """A picture (frame, hill, sun) with a tag on its corner."""
    pen.box([(2.5, 4), (24.5, 24)], 3, outline=LIGHT, width=2.2)
    pen.polygon([(5, 21.6), (11, 13.5), (15, 18.5), (18, 15.5), (22.2, 21.6)], TEAL)
    pen.circle((18.5, 9.3), 2.3, AMBER)
    tag(pen, (23.6, 24.2), 13, 8.4, 45, AMBER, gap=1.8)


def capture(pen: Pen) -> None:
    """Viewfinder corners around a lens."""
    for sx, sy in ((1, 1), (-1, 1), (1, -1), (-1, -1)):
        cx, cy = 16 - sx * 12.5, 16 - sy * 12.5
        pen.line([(cx, cy + sy * 6.5), (cx, cy), (cx + sx * 6.5, cy)], LIGHT, 2.4)
    pen.ring((16, 16), 7.6, LIGHT, 2.2)
    pen.circle((16, 16), 4.3, TEAL)


def tag_scene(pen: Pen) -> None:
    """Two tags, one behind the other: every texture gets its tags."""
    tag(pen, (18.5, 12.5), 22, 11, 45, TEAL)
    tag(pen, (14, 19.5), 22, 11, 45, AMBER, gap=2)


def similar(pen: Pen) -> None:
    """Four texture tiles: the one selected (outlined), two like it (teal), one not (grey)."""
    tiles = {(0, 0): TEAL, (1, 0): TEAL, (0, 1): DIM, (1, 1): TEAL}
    for (col, row), color in tiles.items():
        x, y = 3.5 + col * 14, 3.5 + row * 14
        pen.box([(x, y), (x + 11, y + 11)], 2.2, fill=color)
    pen.box([(1, 1), (16.9, 16.9)], 3.6, outline=LIGHT, width=1.6)


def learn(pen: Pen) -> None:
    """A mortarboard: teaching the classifier new tags."""
    pen.polygon([(8, 14), (24, 14), (24, 22.5), (16, 25.5), (8, 22.5)], TEAL)
    pen.polygon([(16, 5), (31, 11.5), (16, 18), (1, 11.5)], CLEAR)  # stand off the cap
    pen.polygon([(16, 6.5), (29, 11.5), (16, 16.5), (3, 11.5)], LIGHT)
    pen.line([(16, 11.5), (26.5, 15), (26.5, 23)], AMBER, 1.8)
    pen.box([(25, 22), (28, 27)], 1, fill=AMBER)


def settings(pen: Pen) -> None:
    """A gear."""
    teeth, outer, inner = 8, 14, 10.6
    points = []
    for i in range(teeth * 4):
        a = 2 * math.pi * i / (teeth * 4) + math.pi / (teeth * 4)
        r = outer if i % 4 in (1, 2) else inner
        points.append((16 + r * math.cos(a), 16 + r * math.sin(a)))
    pen.polygon(points, LIGHT)
    pen.circle((16, 16), 5.6, CLEAR)
    pen.circle((16, 16), 3, TEAL)


def doctor(pen: Pen) -> None:
    """A medical cross in a ring: checks the installation."""
    pen.ring((16, 16), 13.4, LIGHT, 2.2)
    pen.box([(12.6, 6.8), (19.4, 25.2)], 1.6, fill=TEAL)
    pen.box([(6.8, 12.6), (25.2, 19.4)], 1.6, fill=TEAL)


def node(pen: Pen) -> None:
    """An X drawn as a small network: four nodes joined through a centre one."""
    ends = [(5.5, 5.5), (26.5, 26.5), (26.5, 5.5), (5.5, 26.5)]
    pen.line([ends[0], ends[1]], TEAL, 4.2)
    pen.line([ends[2], ends[3]], TEAL, 4.2)
    for end in ends:
        pen.circle(end, 3.6, LIGHT)
    pen.circle((16, 16), 6, CLEAR)
    pen.circle((16, 16), 4.8, AMBER)


@dataclass(frozen=True)
class Icon:
    file: str
    size: int
    what: str
    draw: Callable[[Pen], None]


ICONS = (
    Icon("xceptionClassify.png", 32, "shelf: Classify selected textures", classify),
    Icon("xceptionCapture.png", 32, "shelf: Capture viewport", capture),
    Icon("xceptionTag.png", 32, "shelf: Tag scene (and Tag selected)", tag_scene),
    Icon("xceptionSimilar.png", 32, "shelf: Select similar (and its options)", similar),
    Icon("xceptionLearn.png", 32, "shelf: Learn tags from selection, Train head", learn),
    Icon("xceptionSettings.png", 32, "shelf: Settings", settings),
    Icon("xceptionDoctor.png", 32, "shelf: About / doctor", doctor),
    Icon(
        "out_xceptionClassifier.png",
        32,
        "node icon of xceptionClassifier (Outliner, Hypershade, Node Editor)",
        node,
    ),
)


def render(icon: Icon) -> Image.Image:
    big = Image.new("RGBA", (icon.size * SUPERSAMPLE,) * 2, CLEAR)
    icon.draw(Pen(big))
    small = big.convert("RGBa").resize((icon.size, icon.size), Image.Resampling.LANCZOS)
    return small.convert("RGBA")


def readme() -> str:
    lines = [
        "# Icons",
        "",
        "Drawn for this project by `tools/draw_icons.py` (run it again to redraw them; the",
        "output is the same every time). PNG, RGBA with a transparent background. Maya finds",
        "them through XBMLANGPATH, to which it adds this folder because it is the module's",
        "`icons/`; the node icon follows Maya's `out_<nodeType>.png` naming.",
        "",
    ]
    for icon in ICONS:
        doc = (icon.draw.__doc__ or "").strip().rstrip(".")
        lines.append(f"- `{icon.file}` ({icon.size}x{icon.size}): {icon.what}. {doc}.")
    return "\n".join(lines) + "\n"


def main(out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    for icon in ICONS:
        # No timestamp or other metadata: the same drawing gives the same file.
        render(icon).save(out_dir / icon.file, format="PNG", optimize=True)
    (out_dir / "README.md").write_text(readme(), encoding="utf8")
    print(f"drew {len(ICONS)} icons into {out_dir}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[1] / "icons")
