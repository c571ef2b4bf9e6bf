"""Pillow drawing for the preview stand-ins: title cards and burned-in caption overlays.

Everything here is pure drawing that returns PIL Images; the callers decide how to encode them.
Sizes scale with the frame height so a card reads the same at 320x180 and at 1920x1080.
"""

from __future__ import annotations

import colorsys
import random
from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw, ImageFont, ImageOps

from vidspec.media.drawing.fonts import find_font

AnyFont = ImageFont.FreeTypeFont | ImageFont.ImageFont

ELLIPSIS = "…"
# A line break right after these reads naturally in a caption.
_BREAK_AFTER = (",", ".", ";", ":", "!", "?", "—", "–", ")", '"', "”")


@lru_cache(maxsize=64)
def font(size: int, *, bold: bool = False) -> ImageFont.FreeTypeFont:
    """A cached TrueType font of the given pixel size (the font file is parsed once per size)."""
    return ImageFont.truetype(str(find_font(bold=bold)), max(1, int(size)))


def _length(fnt: AnyFont, text: str) -> float:
    return float(fnt.getlength(text))


def _split_long_word(word: str, fnt: AnyFont, max_width: float) -> list[str]:
    """Cut a word that is wider than the line into pieces that fit (at least one character each)."""
    pieces: list[str] = []
    current = ""
    for ch in word:
        if current and _length(fnt, current + ch) > max_width:
            pieces.append(current)
            current = ch
        else:
            current += ch
    if current:
        pieces.append(current)
    return pieces


def wrap_text(text: str, font: AnyFont, max_width: float) -> list[str]:
    """Greedy word wrap by measured pixel width; explicit newlines start a new line.

    Words wider than ``max_width`` are broken between characters, so no returned line is wider
    than ``max_width`` unless a single character is.
    """
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        words = paragraph.split()
        if not words:
            if lines:  # keep blank lines between paragraphs, but not leading ones
                lines.append("")
            continue
        current = ""
        for word in words:
            candidate = f"{current} {word}" if current else word
            if _length(font, candidate) <= max_width:
                current = candidate
                continue
            if current:
                lines.append(current)
                current = ""
            if _length(font, word) <= max_width:
                current = word
            else:
                *full, current = _split_long_word(word, font, max_width)
                lines.extend(full)
        if current:
            lines.append(current)
    while lines and not lines[-1]:
        lines.pop()
    return lines


def ellipsize(text: str, fnt: AnyFont, max_width: float) -> str:
    """Shorten ``text`` with a trailing ellipsis until it fits ``max_width``."""
    if _length(fnt, text) <= max_width:
        return text
    lo, hi = 0, len(text)
    while lo < hi:  # longest prefix that still fits together with the ellipsis
        mid = (lo + hi + 1) // 2
        if _length(fnt, text[:mid].rstrip() + ELLIPSIS) <= max_width:
            lo = mid
        else:
            hi = mid - 1
    return text[:lo].rstrip() + ELLIPSIS


def _clamp_lines(lines: list[str], max_lines: int, fnt: AnyFont, max_width: float) -> list[str]:
    if len(lines) <= max_lines:
        return lines
    kept = lines[:max_lines]
    kept[-1] = ellipsize(kept[-1] + " " + lines[max_lines], fnt, max_width)
    if not kept[-1].endswith(ELLIPSIS):
        kept[-1] = ellipsize(kept[-1] + ELLIPSIS * 2, fnt, max_width)
    return kept


def _line_height(fnt: ImageFont.FreeTypeFont, spacing: float = 1.2) -> int:
    ascent, descent = fnt.getmetrics()
    return int(round((ascent + descent) * spacing))


def _hsv(h: float, s: float, v: float) -> np.ndarray:
    return np.array(colorsys.hsv_to_rgb(h % 1.0, s, v), dtype=np.float32) * 255.0


def _background(width: int, height: int, rng: random.Random) -> tuple[Image.Image, tuple[int, int, int]]:
    """A dark diagonal gradient with a soft glow and vignette; returns it and an accent colour."""
    hue = rng.random()
    top = _hsv(hue, 0.55 + 0.2 * rng.random(), 0.26 + 0.06 * rng.random())
    bottom = _hsv(hue + rng.uniform(0.06, 0.18), 0.65, 0.08 + 0.04 * rng.random())
    glow = _hsv(hue + rng.uniform(-0.05, 0.05), 0.5, 0.55)
    accent = tuple(int(c) for c in _hsv(hue + 0.5 * rng.random() - 0.25, 0.45, 0.98))

    # The field is smooth, so compute it at quarter size and let Pillow upscale it (10x faster at 1080p).
    sw, sh = max(2, width // 4), max(2, height // 4)
    x = np.linspace(0.0, 1.0, sw, dtype=np.float32)[None, :]
    y = np.linspace(0.0, 1.0, sh, dtype=np.float32)[:, None]
    angle = rng.uniform(0.3, 0.7)
    t = np.clip(x * angle + y * (1.0 - angle), 0.0, 1.0)
    gx, gy = rng.uniform(0.55, 0.9), rng.uniform(0.1, 0.45)
    aspect = width / max(1, height)
    glow_w = np.exp(-(((x - gx) * aspect) ** 2 + (y - gy) ** 2) / 0.18) * 0.22
    vignette = 1.0 - 0.45 * (((x - 0.5) * 1.4) ** 2 + ((y - 0.5) * 1.4) ** 2)
    rgb = top + (bottom - top) * t[..., None]
    rgb = rgb + (glow - rgb) * glow_w[..., None]
    rgb = rgb * vignette[..., None]
    small = Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8))
    full = np.asarray(small.resize((width, height), Image.Resampling.BILINEAR), dtype=np.int16)
    # A little seeded noise hides the banding a smooth gradient gets after 8-bit yuv420p encoding.
    noise = np.random.default_rng(rng.getrandbits(32)).integers(
        -1, 2, size=(height, width, 1), dtype=np.int16
    )
    rgb = np.clip(full + noise, 0, 255).astype(np.uint8)
    return Image.fromarray(rgb), (accent[0], accent[1], accent[2])


def title_card(
    width: int,
    height: int,
    *,
    title: str,
    body: str,
    footer_lines: list[str],
    seed: int,
    label: str = "",
    thumbnails: list[Image.Image] | None = None,
) -> Image.Image:
    """A dark card: seeded gradient, big title, wrapped body text, small footer lines.

    ``label`` is an optional small uppercase tag drawn above the title (e.g. "PREVIEW").
    ``thumbnails`` (e.g. reference images) are shown as a framed row just above the footer.
    """
    rng = random.Random(seed)
    img, accent = _background(width, height, rng)
    draw = ImageDraw.Draw(img)
    # Portrait frames are sized by their width so the text still fits across.
    unit = min(height, width) / 1080.0
    margin_x = max(8, int(round(min(width, height * 16 / 9) * 0.065)))
    margin_y = max(6, int(round(height * 0.08)))
    text_w = max(10, width - 2 * margin_x)

    # Minimum sizes keep a 320x180 thumbnail legible; the ratios give the 1080p layout.
    label_f = font(max(8, round(26 * unit)), bold=True)
    title_f = font(max(14, round(84 * unit)), bold=True)
    body_f = font(max(9, round(42 * unit)))
    foot_f = font(max(8, round(28 * unit)))

    foot_lh = _line_height(foot_f, 1.25)
    footer = [ellipsize(line, foot_f, text_w) for line in footer_lines if line.strip()]
    footer_top = height - margin_y - foot_lh * len(footer)
    content_bottom = footer_top
    if thumbnails:
        content_bottom = _draw_thumbnails(img, thumbnails, margin_x, footer_top, text_w, unit)

    y = margin_y
    if label.strip():
        draw.text((margin_x, y), label.upper(), font=label_f, fill=accent)
        y += _line_height(label_f, 1.5)

    title_lines = _clamp_lines(wrap_text(title.strip() or " ", title_f, text_w), 2, title_f, text_w)
    title_lh = _line_height(title_f, 1.08)
    for line in title_lines:
        draw.text((margin_x, y), line, font=title_f, fill=(250, 250, 252))
        y += title_lh
    rule_h = max(2, round(6 * unit))
    y += max(3, round(14 * unit))
    draw.rectangle((margin_x, y, margin_x + max(20, int(text_w * 0.12)), y + rule_h - 1), fill=accent)
    y += rule_h + max(4, round(30 * unit))

    body_lh = _line_height(body_f, 1.3)
    room = max(0, content_bottom - max(4, round(20 * unit)) - y)
    max_body = room // body_lh if body_lh else 0
    if max_body > 0 and body.strip():
        for line in _clamp_lines(wrap_text(body.strip(), body_f, text_w), max_body, body_f, text_w):
            draw.text((margin_x, y), line, font=body_f, fill=(222, 226, 234))
            y += body_lh

    fy = footer_top
    for line in footer:
        draw.text((margin_x, fy), line, font=foot_f, fill=(168, 176, 190))
        fy += foot_lh
    return img


def _draw_thumbnails(
    img: Image.Image, thumbs: list[Image.Image], x: int, bottom: int, max_width: int, unit: float
) -> int:
    """Draw a row of framed thumbnails ending just above ``bottom``; return the row's top edge.

    Each keeps its aspect ratio (clamped to 1:2..2:1) at a common height; those that do not fit
    the width are summarised by a final "+N" tile.
    """
    draw = ImageDraw.Draw(img)
    th = max(14, round(150 * unit))
    gap = max(3, round(16 * unit))
    border = max(1, round(4 * unit))
    top = bottom - max(4, round(24 * unit)) - th
    sizes = [max(th // 2, min(th * 2, round(th * t.width / max(1, t.height)))) for t in thumbs]
    more_w = th
    shown = 0
    used = 0
    for i, tw in enumerate(sizes):
        rest_needed = (gap + more_w) if i < len(sizes) - 1 else 0
        if used + tw + rest_needed > max_width:
            break
        used += tw + gap
        shown += 1
    cx = x
    for thumb, tw in zip(thumbs[:shown], sizes[:shown]):
        draw.rectangle(
            (cx - border, top - border, cx + tw + border - 1, top + th + border - 1), fill=(235, 235, 240)
        )
        img.paste(ImageOps.fit(thumb.convert("RGB"), (tw, th), Image.Resampling.LANCZOS), (cx, top))
        cx += tw + gap
    if shown < len(thumbs):
        draw.rectangle((cx, top, cx + more_w - 1, top + th - 1), fill=(60, 62, 70))
        f = font(max(9, round(th * 0.3)), bold=True)
        draw.text(
            (cx + more_w / 2, top + th / 2),
            f"+{len(thumbs) - shown}",
            font=f,
            fill=(235, 235, 240),
            anchor="mm",
        )
    return top - border


def _balanced_lines(words: list[str], fnt: AnyFont, n_lines: int, max_width: float) -> list[str] | None:
    """Split words into exactly ``n_lines`` lines that fit, balanced and breaking at punctuation.

    Returns None when no split fits. Scores by the widest line (balance), a small penalty for each
    break not after punctuation, and a penalty for a lone word on a line.
    """
    n = len(words)
    if n < n_lines:
        return None
    widths: dict[tuple[int, int], float] = {}

    def width(i: int, j: int) -> float:
        if (i, j) not in widths:
            widths[(i, j)] = _length(fnt, " ".join(words[i:j]))
        return widths[(i, j)]

    memo: dict[tuple[int, int], tuple[float, float, list[int]] | None] = {}

    def best(i: int, k: int) -> tuple[float, float, list[int]] | None:
        """(widest line, penalties, break positions) for words[i:] in k lines."""
        if (i, k) in memo:
            return memo[(i, k)]
        result: tuple[float, float, list[int]] | None = None
        if k == 1:
            w = width(i, n)
            if w <= max_width:
                result = (w, 0.3 if n - i == 1 and i > 0 else 0.0, [])
        else:
            for j in range(i + 1, n - k + 2):
                w = width(i, j)
                if w > max_width:
                    break
                rest = best(j, k - 1)
                if rest is None:
                    continue
                penalty = rest[1] + (0.0 if words[j - 1].endswith(_BREAK_AFTER) else 0.12)
                if j - i == 1:
                    penalty += 0.3
                cand = (max(w, rest[0]), penalty, [j, *rest[2]])
                if result is None or cand[0] / max_width + cand[1] < result[0] / max_width + result[1]:
                    result = cand
        memo[(i, k)] = result
        return result

    found = best(0, n_lines)
    if found is None:
        return None
    cuts = [0, *found[2], n]
    return [" ".join(words[a:b]) for a, b in zip(cuts, cuts[1:])]


def _caption_layout(
    text: str, width: int, height: int, max_lines: int
) -> tuple[ImageFont.FreeTypeFont, list[str]]:
    words = text.split()
    max_w = width * 0.86
    start = max(10, round(min(height, width) * 0.046))
    smallest = max(9, round(min(height, width) * 0.032))
    size = start
    while True:
        fnt = font(size, bold=True)
        for n_lines in range(1, max(1, max_lines) + 1):
            lines = _balanced_lines(words, fnt, n_lines, max_w)
            if lines is not None:
                return fnt, lines
        if size <= smallest:
            # Still too long at the smallest size: wrap and cut with an ellipsis.
            return fnt, _clamp_lines(wrap_text(text, fnt, max_w), max(1, max_lines), fnt, max_w)
        size = max(smallest, int(size * 0.9))


def caption_image(text: str, width: int, height: int, *, max_lines: int = 2) -> Image.Image:
    """A transparent RGBA overlay with the caption centred in a rounded translucent box near the bottom."""
    img = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    text = " ".join(text.split())
    if not text:
        return img
    fnt, lines = _caption_layout(text, width, height, max_lines)
    draw = ImageDraw.Draw(img)
    lh = _line_height(fnt, 1.15)
    ascent, descent = fnt.getmetrics()
    text_h = lh * (len(lines) - 1) + ascent + descent
    text_w = max(_length(fnt, line) for line in lines)
    pad_x = max(6, round(lh * 0.6))
    pad_y = max(3, round(lh * 0.3))
    box_w = text_w + 2 * pad_x
    box_h = text_h + 2 * pad_y
    bottom = height - max(4, round(height * 0.06))
    x0 = (width - box_w) / 2
    y0 = bottom - box_h
    radius = max(3, round(lh * 0.35))
    draw.rounded_rectangle((x0, y0, x0 + box_w, bottom), radius=radius, fill=(10, 10, 14, 178))
    y = y0 + pad_y
    for line in lines:
        draw.text((width / 2, y), line, font=fnt, fill=(255, 255, 255, 255), anchor="ma")
        y += lh
    return img


def caption_band(width: int, height: int, text: str, *, detail: str = "") -> Image.Image:
    """A transparent RGBA overlay with a slim translucent band along the bottom: bold ``text``
    (e.g. the scene id) and an optional lighter ``detail`` cut to one line."""
    img = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    draw = ImageDraw.Draw(img)
    bold = font(max(9, round(min(height, width) * 0.034)), bold=True)
    light = font(max(8, round(min(height, width) * 0.03)))
    ascent, descent = bold.getmetrics()
    pad = max(3, round(min(height, width) * 0.014))
    # Leave room below for the timeline bar the video draws on the last ~1% of the frame.
    bottom = height - max(2, height // 90)
    top = bottom - (ascent + descent) - 2 * pad
    draw.rectangle((0, top, width, bottom - 1), fill=(8, 8, 12, 150))
    x = max(6, round(width * 0.02))
    max_w = width - 2 * x
    head = ellipsize(" ".join(text.split()), bold, max_w)
    draw.text((x, top + pad), head, font=bold, fill=(255, 255, 255, 255))
    rest = max_w - _length(bold, head) - _length(light, "  ·  ")
    detail = " ".join(detail.split())
    if detail and rest > _length(light, "abc…"):
        dx = x + _length(bold, head)
        # Align the lighter text's baseline with the bold head.
        dy = top + pad + ascent - light.getmetrics()[0]
        draw.text((dx, dy), "  ·  " + ellipsize(detail, light, rest), font=light, fill=(205, 208, 216, 255))
    return img
