"""Procedural, seeded scenes for the offline mini profile: vocabulary, stills and motion videos.

Every picture is one object (a coloured shape) on a named background, and every caption follows a
single fixed grammar::

    a {colour} {shape} on a {background} background

A video shows that content moving in one of the eight LAMP motion categories. Each motion is a
visibly different, learnable pattern (see the ``_render_<motion>`` functions); its free
parameters (size, position, speed, phase, ...) are drawn from ``numpy.random.default_rng(seed)``,
so a :class:`VideoSpec` fully determines its frames.

Shapes are rasterised from exact signed distance fields with one pixel of analytic antialiasing,
which keeps frames of a few dozen pixels clean without supersampling. Per-pixel work is plain
arithmetic and ``sqrt`` (both correctly rounded in IEEE 754); trigonometry is only evaluated on
scalars with :mod:`math`, because numpy's vectorised ``sin``/``cos`` may take CPU-specific SIMD
paths and would make the rendered bytes depend on the machine.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

MOTIONS: tuple[str, ...] = (
    "helicopter",
    "waterfall",
    "rain",
    "firework",
    "horse_run",
    "birds_fly",
    "turn_to_smile",
    "play_the_guitar",
)

_COLOUR_RGB: dict[str, tuple[int, int, int]] = {
    "red": (225, 35, 35),
    "green": (70, 225, 70),
    "blue": (40, 80, 235),
    "yellow": (245, 210, 40),
    "white": (245, 245, 245),
    "purple": (165, 55, 205),
}
# (top, bottom) colours of a vertical gradient; chosen so every object colour stands out on
# every background (the darkened outline of each object helps the closest pairs).
_BACKGROUND_RGB: dict[str, tuple[tuple[int, int, int], tuple[int, int, int]]] = {
    "black": ((10, 10, 14), (10, 10, 14)),
    "sky": ((110, 165, 230), (185, 215, 245)),
    "grass": ((60, 120, 45), (30, 80, 25)),
    "sand": ((215, 190, 135), (190, 160, 105)),
}
COLOURS: tuple[str, ...] = tuple(_COLOUR_RGB)
SHAPES: tuple[str, ...] = ("circle", "square", "triangle", "star")
BACKGROUNDS: tuple[str, ...] = tuple(_BACKGROUND_RGB)

_GRAMMAR = "a {colour} {shape} on a {background} background[, {motion}]"
_CAPTION = re.compile(r"a (?P<colour>\w+) (?P<shape>\w+) on a (?P<background>\w+) background(?:, [a-z_ ]+)?")
_OUTLINE_SHADE = 0.6  # outline = object colour scaled by this, so the hue stays recognisable
_TAU = 2.0 * math.pi

RGB = tuple[float, float, float]
_Window = tuple[slice, slice, np.ndarray, np.ndarray]  # rows, columns, pixel-centre x and y


@dataclass(frozen=True)
class Content:
    """What a picture shows: one ``colour`` ``shape`` on a ``background``."""

    colour: str
    shape: str
    background: str

    def __post_init__(self) -> None:
        for value, vocabulary in (
            (self.colour, COLOURS),
            (self.shape, SHAPES),
            (self.background, BACKGROUNDS),
        ):
            if value not in vocabulary:
                raise ValueError(f"{value!r} is not one of {vocabulary}")

    @property
    def caption(self) -> str:
        """The caption in the fixed grammar ``a {colour} {shape} on a {background} background``."""
        return f"a {self.colour} {self.shape} on a {self.background} background"


def motion_caption(content: Content, motion: str) -> str:
    """The caption of a frame of ``motion``: ``content``'s, then the motion's name, as the paper's
    prompts name their motion ("a horse runs ..."). Videos are captioned so, and so are the
    evaluation prompts; frames of the videos join the mini CLIP's training set under these captions,
    so that a frame with rain is never captioned like a still without it. The text-to-image model
    learns from the stills alone (README: Measured)."""
    return f"{content.caption}, {motion.replace('_', ' ')}"


def parse_caption(caption: str) -> Content:
    """The :class:`Content` a caption (a still's or a :func:`motion_caption`) describes; ``ValueError``
    if it is not in the grammar."""
    match = _CAPTION.fullmatch(caption)
    if match is None:
        raise ValueError(f"{caption!r} does not follow {_GRAMMAR!r}")
    return Content(**match.groupdict())


def all_contents() -> list[Content]:
    """Every (colour, shape, background) combination, in vocabulary order."""
    return [Content(c, s, b) for c in COLOURS for s in SHAPES for b in BACKGROUNDS]


def colour_rgb(colour: str) -> tuple[int, int, int]:
    """The RGB value an object of ``colour`` is filled with."""
    return _COLOUR_RGB[colour]


@dataclass(frozen=True)
class VideoSpec:
    """Everything :func:`render_video` needs; the motion's free parameters are drawn from ``seed``.

    ``fps`` does not change the pixels: motions are defined per frame, so the video model sees
    the same displacement per frame whatever rate the file is tagged with.
    """

    motion: str
    content: Content
    seed: int
    n_frames: int = 24
    height: int = 72
    width: int = 96
    fps: int = 8

    def __post_init__(self) -> None:
        if self.motion not in MOTIONS:
            raise ValueError(f"unknown motion {self.motion!r}; expected one of {MOTIONS}")
        if self.n_frames < 2:
            raise ValueError("a video needs at least 2 frames")
        if self.height < 16 or self.width < 16 or self.height % 2 or self.width % 2:
            # yuv420p halves the chroma planes, so H.264 needs even sizes
            raise ValueError(
                f"frame size must be even and at least 16x16, got {self.height}x{self.width}"
            )
        if self.fps <= 0:
            raise ValueError("fps must be positive")


# ----------------------------------------------------------------------------------------------
# Rasterisation


def _unit_polygon(corners: int, radius_of: Callable[[int], float], turn: float = 0.0) -> np.ndarray:
    """Vertices at ``radius_of(i)`` from the origin, vertex 0 straight up (y points down)."""
    points = []
    for i in range(corners):
        theta = _TAU * i / corners + turn
        points.append((radius_of(i) * math.sin(theta), -radius_of(i) * math.cos(theta)))
    return np.array(points, dtype=np.float64)


# Sizes are in units of an object's nominal radius; they give the four shapes similar areas.
_SHAPE_VERTICES: dict[str, np.ndarray] = {
    "circle": _unit_polygon(40, lambda i: 0.9),
    "square": _unit_polygon(4, lambda i: 0.8 * math.sqrt(2.0), turn=math.pi / 4),
    "triangle": _unit_polygon(3, lambda i: 1.25),
    "star": _unit_polygon(10, lambda i: 1.3 if i % 2 == 0 else 0.55),
}
_SHAPE_EXTENT = 1.3  # farthest vertex of any shape, in nominal radii


def _shape_polygon(
    shape: str,
    centre: tuple[float, float],
    radius: float,
    angle: float = 0.0,
    stretch: tuple[float, float] = (1.0, 1.0),
) -> np.ndarray:
    """Pixel-space vertices of ``shape``: stretched along (x, y), rotated clockwise by ``angle``."""
    unit = _SHAPE_VERTICES[shape]
    x = unit[:, 0] * (radius * stretch[0])
    y = unit[:, 1] * (radius * stretch[1])
    cos, sin = math.cos(angle), math.sin(angle)
    return np.stack([centre[0] + cos * x - sin * y, centre[1] + sin * x + cos * y], axis=1)


def _polygon_distance(vertices: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Signed distance (negative inside) from pixel centres ``(x, y)`` to a closed polygon."""
    vx, vy = vertices[:, 0, None, None], vertices[:, 1, None, None]
    prev = np.roll(vertices, 1, axis=0)
    ex, ey = prev[:, 0, None, None] - vx, prev[:, 1, None, None] - vy
    wx, wy = x - vx, y - vy
    t = np.clip((wx * ex + wy * ey) / (ex * ex + ey * ey), 0.0, 1.0)
    squared = ((wx - ex * t) ** 2 + (wy - ey * t) ** 2).min(axis=0)
    # even-odd rule: count the edges a horizontal ray from the pixel crosses
    above, below_prev, left = y >= vy, y < prev[:, 1, None, None], ex * wy > ey * wx
    crossings = ((above & below_prev & left) | (~above & ~below_prev & ~left)).sum(axis=0)
    return np.where(crossings % 2 == 1, -1.0, 1.0) * np.sqrt(squared)


def _segment_distance(
    start: np.ndarray, end: np.ndarray, x: np.ndarray, y: np.ndarray
) -> np.ndarray:
    """Distance from pixel centres to the nearest of the segments ``start[i] -> end[i]``."""
    ax, ay = start[:, 0, None, None], start[:, 1, None, None]
    ex, ey = end[:, 0, None, None] - ax, end[:, 1, None, None] - ay
    wx, wy = x - ax, y - ay
    t = np.clip((wx * ex + wy * ey) / np.maximum(ex * ex + ey * ey, 1e-12), 0.0, 1.0)
    return np.sqrt(((wx - ex * t) ** 2 + (wy - ey * t) ** 2).min(axis=0))


def _coverage(distance: np.ndarray) -> np.ndarray:
    """Antialiased coverage of a pixel whose centre lies ``distance`` outside an edge."""
    return np.clip(0.5 - distance, 0.0, 1.0)


class _Canvas:
    """A float RGB frame that shapes are alpha-composited onto, cropping work to their bounds."""

    def __init__(self, background: np.ndarray) -> None:
        self.pixels = background.astype(np.float64)
        self.height, self.width = background.shape[:2]

    def _window(self, points: np.ndarray, margin: float) -> _Window | None:
        """Rows, columns and pixel-centre grids of the frame within ``margin`` of ``points``."""
        x0 = max(int(math.floor(points[:, 0].min() - margin)), 0)
        x1 = min(int(math.ceil(points[:, 0].max() + margin)) + 1, self.width)
        y0 = max(int(math.floor(points[:, 1].min() - margin)), 0)
        y1 = min(int(math.ceil(points[:, 1].max() + margin)) + 1, self.height)
        if x0 >= x1 or y0 >= y1:
            return None
        x = np.arange(x0, x1, dtype=np.float64)[None, :] + 0.5
        y = np.arange(y0, y1, dtype=np.float64)[:, None] + 0.5
        return slice(y0, y1), slice(x0, x1), x, y

    def blend(self, rows: slice, cols: slice, coverage: np.ndarray, rgb: np.ndarray | RGB) -> None:
        """Composite ``rgb`` (a colour or a per-pixel image) over the window with ``coverage``."""
        region = self.pixels[rows, cols]
        region += coverage[..., None] * (np.asarray(rgb, dtype=np.float64) - region)

    def polygon(
        self, vertices: np.ndarray, rgb: RGB, outline: RGB | None = None, outline_width: float = 0.0
    ) -> None:
        """Fill a polygon, optionally inside an outline ``outline_width`` pixels thick."""
        window = self._window(vertices, 1.0)
        if window is None:
            return
        rows, cols, x, y = window
        distance = _polygon_distance(vertices, x, y)
        if outline is not None:
            self.blend(rows, cols, _coverage(distance), outline)
        self.blend(rows, cols, _coverage(distance + outline_width), rgb)

    def strokes(
        self, start: np.ndarray, end: np.ndarray, radius: float, rgb: RGB, alpha: float = 1.0
    ) -> None:
        """Draw round-capped segments ``start[i] -> end[i]`` (``(n, 2)`` arrays); a dot if equal."""
        window = self._window(np.concatenate([start, end]), radius + 1.0)
        if window is None:
            return
        rows, cols, x, y = window
        self.blend(rows, cols, alpha * _coverage(_segment_distance(start, end, x, y) - radius), rgb)

    def frame(self) -> np.ndarray:
        """The frame as ``uint8`` (height, width, 3)."""
        return np.clip(np.rint(self.pixels), 0, 255).astype(np.uint8)


def render_background(background: str, height: int, width: int) -> np.ndarray:
    """The named background alone, ``uint8`` (height, width, 3): a vertical colour gradient."""
    top, bottom = (np.array(c, dtype=np.float64) for c in _BACKGROUND_RGB[background])
    t = (np.arange(height, dtype=np.float64)[:, None] + 0.5) / height
    rows = top + t * (bottom - top)
    image = np.broadcast_to(rows[:, None, :], (height, width, 3))
    return np.clip(np.rint(image), 0, 255).astype(np.uint8)


def _tint(rgb: RGB, towards_white: float) -> RGB:
    """``rgb`` moved the given fraction of the way to white."""
    return tuple(c + towards_white * (255.0 - c) for c in rgb)


def _shade(rgb: RGB, factor: float) -> RGB:
    """``rgb`` scaled towards black by ``factor``."""
    return tuple(c * factor for c in rgb)


def _draw_object(
    canvas: _Canvas,
    content: Content,
    centre: tuple[float, float],
    radius: float,
    angle: float = 0.0,
    stretch: tuple[float, float] = (1.0, 1.0),
) -> None:
    """Draw the content's shape in its colour with a darker outline of the same hue."""
    rgb = _COLOUR_RGB[content.colour]
    vertices = _shape_polygon(content.shape, centre, radius, angle, stretch)
    outline = _shade(rgb, _OUTLINE_SHADE)
    canvas.polygon(vertices, rgb, outline=outline, outline_width=max(0.6, 0.08 * radius))


def _start(
    rng: np.random.Generator, size: float, before: float, after: float, shift: float = 0.0
) -> float:
    """A seeded start ``p`` keeping ``[p - before, p + after]`` within ``[0, size]`` both at ``p``
    and after moving by ``shift`` (centred when that is impossible)."""
    low = before - min(0.0, shift)
    high = size - after - max(0.0, shift)
    return float(rng.uniform(low, high)) if high > low else (low + high) / 2.0


def render_still(content: Content, height: int, width: int, seed: int) -> np.ndarray:
    """``uint8`` (height, width, 3): the object at a seeded position, size and tilt; no motion."""
    rng = np.random.default_rng(seed)
    radius = rng.uniform(0.1, 0.22) * min(height, width)
    extent = _SHAPE_EXTENT * radius + 1.0
    centre = (_start(rng, width, extent, extent), _start(rng, height, extent, extent))
    canvas = _Canvas(render_background(content.background, height, width))
    _draw_object(canvas, content, centre, radius, angle=rng.uniform(-0.2, 0.2))
    return canvas.frame()


# ----------------------------------------------------------------------------------------------
# Motions: each returns the frames of one video as uint8 (n, height, width, 3)


def _progress(n: int) -> np.ndarray:
    """Frame times from 0 to 1."""
    return np.arange(n, dtype=np.float64) / (n - 1)


def _square_view(h: int, w: int) -> tuple[float, float]:
    """The columns ``(left, right)`` of the centred ``h x h`` square that ``ingest`` keeps of a wide
    frame (``resize_mode: crop``): motions happen inside it so that training clips show them whole."""
    side = min(h, w)
    return (w - side) / 2.0, (w + side) / 2.0


def _start_across(
    rng: np.random.Generator, h: int, w: int, before: float, after: float, shift: float = 0.0
) -> float:
    """A seeded start column as :func:`_start` gives, inside the square of :func:`_square_view`."""
    left, right = _square_view(h, w)
    return left + _start(rng, right - left, before, after, shift)


# Each motion moves the whole object, a coarse pattern that a 16 x 16 latent carries: objects an eighth
# of the frame wide or more, strokes over a pixel thick, and moves of 1-3 pixels per frame (4-8 at the
# training stride of 3, one or two latent cells). Motions that change a texture or a shape in place
# (falling drops, a streaming column, a burst, a turning face) were tried first and the mini models
# redraw them as a still blob (README: Measured), so the eight differ in the path the object takes:
# up (helicopter), up and right, slowing (firework), right with a bounce (horse_run), down and right
# (turn_to_smile), straight down (rain), left and then falling faster (waterfall), up and left
# (birds_fly, a flock), left and right again (play_the_guitar). Their details (a rotor, legs, wings,
# streaks, sparks, a face, a neck) move with the object.


def _render_helicopter(
    content: Content, rng: np.random.Generator, n: int, h: int, w: int
) -> list[np.ndarray]:
    """The object lifts off: it rises at constant speed, nearly straight up, under a spinning rotor
    whose apparent length pulses."""
    s = min(h, w)
    radius = rng.uniform(0.11, 0.14) * s
    heading = rng.uniform(-0.2, 0.2)  # from straight up
    travel = rng.uniform(0.42, 0.52) * s
    dx, dy = travel * math.sin(heading), -travel * math.cos(heading)
    extent = _SHAPE_EXTENT * radius + 1.0
    x0 = _start_across(rng, h, w, extent, extent, dx)
    y0 = _start(rng, h, 1.6 * radius + 2.0, extent, dy)
    spin, spin_phase = rng.uniform(1.1, 1.7), rng.uniform(0.0, _TAU)
    rgb = _COLOUR_RGB[content.colour]
    background = render_background(content.background, h, w)
    frames = []
    for k, t in enumerate(_progress(n)):
        cx, cy = x0 + t * dx, y0 + t * dy
        canvas = _Canvas(background)
        rotor_y = cy - 1.45 * radius
        half = radius * (0.5 + 0.9 * abs(math.cos(spin * k + spin_phase)))
        canvas.strokes(
            np.array([[cx, cy - 0.5 * radius], [cx - half, rotor_y]]),
            np.array([[cx, rotor_y], [cx + half, rotor_y]]),
            0.6 + 0.06 * radius,
            rgb,
        )
        _draw_object(canvas, content, (cx, cy), radius)
        frames.append(canvas.frame())
    return frames


def _render_waterfall(
    content: Content, rng: np.random.Generator, n: int, h: int, w: int
) -> list[np.ndarray]:
    """The object pours over a ledge: it slides left off the ledge's end and falls, gathering speed
    (a ballistic arc: steady leftward, accelerating downward), under a short stream of water."""
    s = min(h, w)
    radius = rng.uniform(0.11, 0.14) * s
    across, drop = rng.uniform(0.24, 0.3) * s, rng.uniform(0.44, 0.52) * s
    extent = _SHAPE_EXTENT * radius + 1.0
    x0 = _start_across(rng, h, w, extent, extent, -across)
    y0 = _start(rng, h, extent + 0.9 * radius, extent, drop)
    rgb = _COLOUR_RGB[content.colour]
    water = _tint(rgb, 0.45)
    background = render_background(content.background, h, w)
    frames = []
    for t in _progress(n):
        cx, cy = x0 - across * t, y0 + drop * t * t
        canvas = _Canvas(background)
        # the water it pours trails up and back along its path, longer as it falls faster
        trail = 0.5 * radius + 0.25 * drop * t
        canvas.strokes(np.array([[cx + 0.35 * radius, cy]]), np.array([[cx + 0.6 * radius, cy - radius - trail]]),
                       max(0.8, 0.2 * radius), water)
        _draw_object(canvas, content, (cx, cy), radius)
        frames.append(canvas.frame())
    return frames


def _render_rain(
    content: Content, rng: np.random.Generator, n: int, h: int, w: int
) -> list[np.ndarray]:
    """A raindrop: the object falls at a steady speed, nearly straight down, two thick streaks of
    rain trailing above it."""
    s = min(h, w)
    radius = rng.uniform(0.11, 0.14) * s
    heading = rng.uniform(-0.15, 0.15)  # from straight down
    travel = rng.uniform(0.42, 0.52) * s
    dx, dy = travel * math.sin(heading), travel * math.cos(heading)
    trail = 1.2 * radius
    extent = _SHAPE_EXTENT * radius + 1.0
    x0 = _start_across(rng, h, w, extent, extent, dx)
    y0 = _start(rng, h, extent + trail, extent, dy)
    streaks = _tint(_COLOUR_RGB[content.colour], 0.45)
    background = render_background(content.background, h, w)
    frames = []
    for t in _progress(n):
        cx, cy = x0 + t * dx, y0 + t * dy
        canvas = _Canvas(background)
        tops = np.array([[cx - 0.5 * radius, cy - radius - trail], [cx + 0.5 * radius, cy - radius - 0.7 * trail]])
        bottoms = np.array([[cx - 0.5 * radius, cy - radius], [cx + 0.5 * radius, cy - radius]])
        canvas.strokes(tops, bottoms, max(0.8, 0.15 * radius), streaks)
        _draw_object(canvas, content, (cx, cy), radius)
        frames.append(canvas.frame())
    return frames


def _render_firework(
    content: Content, rng: np.random.Generator, n: int, h: int, w: int
) -> list[np.ndarray]:
    """A firework's shell (the object) shoots up and to the right, slowing as it climbs, a spray of
    sparks trailing behind it."""
    s = min(h, w)
    radius = rng.uniform(0.1, 0.13) * s
    heading = rng.uniform(0.55, 0.85)  # clockwise from straight up
    travel = rng.uniform(0.5, 0.6) * s
    dx, dy = travel * math.sin(heading), -travel * math.cos(heading)
    extent = _SHAPE_EXTENT * radius + 1.0
    x0 = _start_across(rng, h, w, extent + radius, extent, dx)
    y0 = _start(rng, h, extent, extent + radius, dy)
    back = np.array([-math.sin(heading), math.cos(heading)])
    spray = np.array([[math.cos(a), math.sin(a)] for a in (-0.5, 0.0, 0.5)])
    rotated = np.stack([back[0] * spray[:, 0] - back[1] * spray[:, 1], back[1] * spray[:, 0] + back[0] * spray[:, 1]], axis=1)
    sparks = _tint(_COLOUR_RGB[content.colour], 0.5)
    background = render_background(content.background, h, w)
    frames = []
    for t in _progress(n):
        along = (t - 0.35 * t * t) / 0.65  # from 1.5 times the mean speed down to half of it
        centre = np.array([x0 + along * dx, y0 + along * dy])
        canvas = _Canvas(background)
        roots = centre + 0.8 * radius * back
        canvas.strokes(np.repeat(roots[None], 3, axis=0), roots + 1.1 * radius * rotated, max(0.8, 0.13 * radius), sparks)
        _draw_object(canvas, content, tuple(centre), radius)
        frames.append(canvas.frame())
    return frames


def _render_horse_run(
    content: Content, rng: np.random.Generator, n: int, h: int, w: int
) -> list[np.ndarray]:
    """The object gallops rightward near the ground: constant forward speed, a periodic bounce
    and four thick legs swinging in diagonal pairs."""
    s = min(h, w)
    radius = rng.uniform(0.11, 0.14) * s
    leg = 0.9 * radius
    travel = rng.uniform(0.42, 0.52) * s
    extent = _SHAPE_EXTENT * radius + 1.0
    x0 = _start_across(rng, h, w, extent, extent, travel)
    ground = rng.uniform(0.86, 0.95) * h
    stride, phase = rng.uniform(6.0, 9.0), rng.uniform(0.0, _TAU)
    hips = ((0.55, 0.0), (0.35, math.pi), (-0.55, math.pi), (-0.35, 0.0))  # (x offset, gait phase)
    rgb = _COLOUR_RGB[content.colour]
    background = render_background(content.background, h, w)
    frames = []
    for k, t in enumerate(_progress(n)):
        gait = _TAU * k / stride + phase
        cx = x0 + t * travel
        cy = ground - leg - 0.55 * radius - 0.3 * radius * abs(math.sin(gait / 2.0))
        hip_points = np.array([[cx + dx * radius, cy + 0.5 * radius] for dx, _ in hips])
        swings = [0.55 * math.sin(gait + offset) for _, offset in hips]
        feet = hip_points + leg * np.array([[math.sin(a), math.cos(a)] for a in swings])
        canvas = _Canvas(background)
        canvas.strokes(hip_points, feet, max(0.8, 0.13 * radius), rgb)
        _draw_object(canvas, content, (cx, cy), radius, angle=0.08 * math.sin(gait))
        frames.append(canvas.frame())
    return frames


def _render_birds_fly(
    content: Content, rng: np.random.Generator, n: int, h: int, w: int
) -> list[np.ndarray]:
    """A V-shaped flock of small copies of the object flying away to the upper left with one
    shared velocity, each flapping a pair of wings."""
    s = min(h, w)
    radius = rng.uniform(0.06, 0.075) * s
    count = int(rng.integers(3, 5))
    heading = rng.uniform(0.45, 0.75)  # climbing, above the leftward horizontal
    travel = rng.uniform(0.42, 0.52) * s
    dx, dy = -travel * math.cos(heading), -travel * math.sin(heading)
    ranks = [(i + 1) // 2 for i in range(count)]
    sides = [0 if i == 0 else (1 if i % 2 else -1) for i in range(count)]
    # the leader in front (left), the others trailing; spaced so that wings never touch a neighbour
    formation = [[3.0 * rank, 2.6 * side * rank] for rank, side in zip(ranks, sides)]
    offsets = radius * np.array(formation)
    offsets += rng.uniform(-0.3, 0.3, offsets.shape) * radius
    span = 1.5 * radius
    margin = span + 1.0
    x0 = _start_across(rng, h, w, margin - offsets[:, 0].min(), margin + offsets[:, 0].max(), dx)
    y0 = _start(rng, h, margin - offsets[:, 1].min(), margin + offsets[:, 1].max(), dy)
    beat, phase = rng.uniform(5.0, 7.0), rng.uniform(0.0, _TAU)
    lags = rng.uniform(-0.4, 0.4, count)
    rgb = _COLOUR_RGB[content.colour]
    background = render_background(content.background, h, w)
    frames = []
    for k, t in enumerate(_progress(n)):
        canvas = _Canvas(background)
        for (ox, oy), lag in zip(offsets, lags):
            flap = _TAU * k / beat + phase + lag
            wing = 0.7 * math.sin(flap)
            cx, cy = x0 + t * dx + ox, y0 + t * dy + oy + 0.2 * radius * math.cos(flap)
            roots = np.array([[cx - 0.3 * radius, cy], [cx + 0.3 * radius, cy]])
            reach, lift = span * math.cos(wing), span * math.sin(wing)
            tips = np.array([[cx - reach, cy - lift], [cx + reach, cy - lift]])
            canvas.strokes(roots, tips, max(0.7, 0.25 * radius), rgb)
            _draw_object(canvas, content, (cx, cy), radius)
        frames.append(canvas.frame())
    return frames


def _render_turn_to_smile(
    content: Content, rng: np.random.Generator, n: int, h: int, w: int
) -> list[np.ndarray]:
    """A face (the object with eyes and a mouth) turns away down and to the right: it glides that way
    at a steady speed, tilting as it goes, while its mouth bends from a frown into a smile."""
    s = min(h, w)
    radius = rng.uniform(0.13, 0.16) * s
    heading = rng.uniform(0.55, 0.95)  # below the rightward horizontal
    travel = rng.uniform(0.42, 0.52) * s
    dx, dy = travel * math.cos(heading), travel * math.sin(heading)
    extent = _SHAPE_EXTENT * radius + 1.0
    x0 = _start_across(rng, h, w, extent, extent, dx)
    y0 = _start(rng, h, extent, extent, dy)
    tilt = rng.uniform(0.3, 0.5)
    face = _shade(_COLOUR_RGB[content.colour], 0.3)
    feature = max(0.9, 0.12 * radius)
    u = np.linspace(-1.0, 1.0, 7)
    background = render_background(content.background, h, w)
    frames = []
    for t in _progress(n):
        cx, cy, angle = x0 + t * dx, y0 + t * dy, tilt * t
        cos, sin = math.cos(angle), math.sin(angle)
        canvas = _Canvas(background)
        _draw_object(canvas, content, (cx, cy), radius, angle=angle)
        bend = 0.25 * radius * (2.0 * t - 1.0)  # corners up (smile) when positive
        # eyes and mouth in the face's own frame (x right, y down), then turned with it
        local = np.concatenate([
            [[-0.35 * radius, -0.25 * radius], [0.35 * radius, -0.25 * radius]],
            np.stack([0.45 * radius * u, 0.3 * radius + bend * (0.5 - u * u)], axis=1),
        ])
        points = np.stack([cx + cos * local[:, 0] - sin * local[:, 1], cy + sin * local[:, 0] + cos * local[:, 1]], axis=1)
        eyes, mouth = points[:2], points[2:]
        canvas.strokes(eyes, eyes, 1.4 * feature, face)
        canvas.strokes(mouth[:-1], mouth[1:], feature, face)
        frames.append(canvas.frame())
    return frames


def _render_play_the_guitar(
    content: Content, rng: np.random.Generator, n: int, h: int, w: int
) -> list[np.ndarray]:
    """A guitar (the object as body, plus a thick neck) swings left and right to the beat, a swing
    and a half or so a clip, its strumming arm swinging across it."""
    s = min(h, w)
    radius = rng.uniform(0.13, 0.16) * s
    neck = 1.8 * radius
    tilt = rng.uniform(0.6, 0.9)  # neck direction, clockwise from straight up
    sway = rng.uniform(0.16, 0.2) * s
    # a beat of 14-18 frames is 5-6 frames at the training stride of 3: seen as a swing, not aliased
    period, phase = rng.uniform(14.0, 18.0), rng.uniform(0.0, _TAU)
    extent = _SHAPE_EXTENT * radius + 1.0
    cx = _start_across(rng, h, w, extent + sway, max(extent, neck + 2.0) + sway)
    cy = _start(rng, h, max(extent, neck + 2.0), extent)
    rgb = _COLOUR_RGB[content.colour]
    arm_rgb = _tint(rgb, 0.5)
    background = render_background(content.background, h, w)
    frames = []
    for k in range(n):
        beat = math.sin(_TAU * k / period + phase)
        x = cx + sway * beat
        canvas = _Canvas(background)
        head = (x + neck * math.sin(tilt), cy - neck * math.cos(tilt))
        canvas.strokes(np.array([[x, cy]]), np.array([head]), max(1.0, 0.18 * radius), _shade(rgb, 0.7))
        _draw_object(canvas, content, (x, cy), radius)
        pivot = np.array([[x - 1.1 * radius, cy - 1.0 * radius]])
        strum = 0.8 + 0.5 * beat  # arm angle below the horizontal, swinging across the strings
        hand = pivot + 1.4 * radius * np.array([[math.cos(strum), math.sin(strum)]])
        canvas.strokes(pivot, hand, max(1.0, 0.15 * radius), arm_rgb)
        frames.append(canvas.frame())
    return frames


_Renderer = Callable[[Content, np.random.Generator, int, int, int], list[np.ndarray]]
_RENDERERS: dict[str, _Renderer] = {
    "helicopter": _render_helicopter,
    "waterfall": _render_waterfall,
    "rain": _render_rain,
    "firework": _render_firework,
    "horse_run": _render_horse_run,
    "birds_fly": _render_birds_fly,
    "turn_to_smile": _render_turn_to_smile,
    "play_the_guitar": _render_play_the_guitar,
}


def render_video(spec: VideoSpec) -> np.ndarray:
    """``uint8`` (n_frames, height, width, 3): the spec's content moving in the spec's motion.

    A pure function of ``spec``: the motion's free parameters come from ``default_rng(spec.seed)``.
    """
    rng = np.random.default_rng(spec.seed)
    frames = _RENDERERS[spec.motion](spec.content, rng, spec.n_frames, spec.height, spec.width)
    return np.stack(frames)
