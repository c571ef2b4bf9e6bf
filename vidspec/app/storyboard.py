"""`vidspec storyboard`: a contact sheet (PNG) and an HTML page, one tile per scene, for review before spending."""

from __future__ import annotations

import contextlib
import html
import io
import json
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw

from vidspec.app.workspace import PREVIEW, RUNWAY, Workspace
from vidspec.core.catalog import ratio_size
from vidspec.core.graph import FileRef
from vidspec.core.plan import Plan
from vidspec.core.timing import narration_parts
from vidspec.media.drawing.cards import font, title_card, wrap_text
from vidspec.media.probe import ffmpeg_exe, run_child
from vidspec.media.timeline import output_ratio
from vidspec.store.atomic import atomic_write_bytes, atomic_write_text
from vidspec.store.cache import Cache

TILE_W, TILE_H, TEXT_H, COLS, PAD = 480, 270, 150, 3, 16


@dataclass(frozen=True)
class Tile:
    scene: str
    model: str
    duration: float
    credits: int
    cached: bool
    source: str  # runway | preview | card
    narration: str
    image: Image.Image
    take: int = 1  # which take of the scene this tile shows
    takes: int = 1  # how many the scene has
    seed: int | None = None
    number: int = 0  # the scene's place in the film (1-based)

    @property
    def chosen(self) -> bool:
        """The take the film uses (take 1 until `vidspec pick` keeps another)."""
        return self.take == 1


def _frame(path: Path, at: float) -> Image.Image | None:
    if path.suffix.lower() in (".png", ".jpg", ".jpeg", ".webp"):
        return Image.open(path).convert("RGB")
    proc = run_child(
        [
            ffmpeg_exe(),
            "-hide_banner",
            "-loglevel",
            "error",
            "-nostdin",
            "-ss",
            f"{at:.3f}",
            "-i",
            str(path),
            "-frames:v",
            "1",
            "-f",
            "image2pipe",
            "-vcodec",
            "png",
            "-",
        ],
        capture_output=True,
    )
    if proc.returncode != 0 or not proc.stdout:
        return None
    return Image.open(io.BytesIO(proc.stdout)).convert("RGB")


def _fit(img: Image.Image) -> Image.Image:
    img = img.copy()
    img.thumbnail((TILE_W, TILE_H))
    canvas = Image.new("RGB", (TILE_W, TILE_H), (0, 0, 0))
    canvas.paste(img, ((TILE_W - img.width) // 2, (TILE_H - img.height) // 2))
    return canvas


def _take_strip(clip: Path, seconds: float) -> Image.Image | None:
    """A take's frames: the middle one large, and the first, middle and last in a strip under it."""
    times = (0.0, seconds / 2, max(0.0, seconds - 0.1))
    frames = [_frame(clip, t) for t in times]
    if any(f is None for f in frames):
        return None
    big_h, small_w = TILE_H * 2 // 3, TILE_W // 3
    canvas = Image.new("RGB", (TILE_W, TILE_H), (0, 0, 0))
    main = frames[1].copy()  # type: ignore[union-attr]
    main.thumbnail((TILE_W, big_h))
    canvas.paste(main, ((TILE_W - main.width) // 2, (big_h - main.height) // 2))
    for i, frame in enumerate(frames):
        small = frame.copy()  # type: ignore[union-attr]
        small.thumbnail((small_w - 4, TILE_H - big_h - 4))
        canvas.paste(small, (i * small_w + (small_w - small.width) // 2, big_h + 2))
    return canvas


def collect(ws: Workspace, plan: Plan) -> list[Tile]:
    """One tile per scene, or one per take for a scene with takes (take 1, the film's, first)."""
    preview_store = Cache(ws.cache.root).store(PREVIEW)
    preview_keys = ws.keys if ws.namespace == PREVIEW else None
    if preview_keys is None:
        from vidspec.core.keys import FileDigests, graph_keys

        preview_keys = graph_keys(ws.graph, FileDigests(), PREVIEW)
    rows = {r.asset.name: r for r in plan.rows}
    tiles = []
    for number, rs in enumerate(ws.graph.scenes, start=1):
        takes = ws.graph.takes(rs.id)
        others = sum(
            r.asset.credits for r in plan.rows if r.asset.scene_id == rs.id and r.asset.kind != "video"
        )
        for video_asset in takes:
            video = rows[video_asset.name]
            credits = others + video.asset.credits if len(takes) == 1 else video.asset.credits
            seconds = float(video.asset.seconds or 0)
            image, source = None, "card"
            for store, key, name in (
                (ws.store, video.key, ws.namespace),
                (preview_store, preview_keys[video.asset.name], PREVIEW),
            ):
                hit = store.get(key)
                if hit is not None:
                    image = _take_strip(hit[1], seconds) if len(takes) > 1 else _frame(hit[1], seconds / 2)
                    source = name
                    if image is not None:
                        break
            still = video.asset.image
            if image is None and isinstance(still, FileRef) and still.path is not None:
                with contextlib.suppress(OSError, ValueError):  # nothing built yet: show the reference image
                    image = Image.open(still.path).convert("RGB")
            if image is None:  # a card in the scene's own shape, so a 9:16 project reads as 9:16
                w, h = ratio_size(video.asset.ratio or output_ratio(ws.graph))
                scale = min(TILE_W / w, TILE_H / h)
                image = title_card(
                    max(2, int(w * scale)),
                    max(2, int(h * scale)),
                    title=rs.id if len(takes) == 1 else f"{rs.id} · take {video.asset.take}",
                    body=rs.get("prompt") or "",
                    footer_lines=[],
                    seed=int(video.key[7:19], 16),
                )
            parts = narration_parts(rs)
            tiles.append(
                Tile(
                    rs.id,
                    video.asset.row.model,
                    seconds,
                    credits,
                    video.cached and ws.namespace == RUNWAY,
                    source,
                    parts[0] if parts else "",
                    _fit(image),
                    take=video.asset.take,
                    takes=len(takes),
                    seed=video.asset.seed,
                    number=number,
                )
            )
    return tiles


def _layout(tiles: list[Tile]) -> list[list[Tile]]:
    """Rows of tiles: COLS scenes a row; when a scene has takes, each scene has a row, its takes side by side."""
    if all(t.takes == 1 for t in tiles):
        return [tiles[i : i + COLS] for i in range(0, len(tiles), COLS)]
    rows: dict[str, list[Tile]] = {}
    for t in tiles:
        rows.setdefault(t.scene, []).append(t)
    return list(rows.values())


CHOSEN = (240, 190, 60)  # the frame around the take the film uses


def render_sheet(tiles: list[Tile], title: str) -> Image.Image:
    rows = _layout(tiles)
    cols = max(COLS, *(len(r) for r in rows)) if rows else COLS
    head = 56
    width = cols * TILE_W + (cols + 1) * PAD
    height = head + len(rows) * (TILE_H + TEXT_H + PAD) + PAD
    sheet = Image.new("RGB", (width, height), (24, 24, 30))
    draw = ImageDraw.Draw(sheet)
    draw.text((PAD, 14), title, font=font(26, bold=True), fill=(255, 255, 255))
    small, bold = font(17), font(19, bold=True)
    for r, row in enumerate(rows):
        for c, t in enumerate(row):
            x = PAD + c * (TILE_W + PAD)
            y = head + r * (TILE_H + TEXT_H + PAD)
            sheet.paste(t.image, (x, y))
            status = "cached" if t.cached else f"from {t.source}" if t.source != "card" else "not built yet"
            name = f"{t.number}. {t.scene}"
            facts = f"{t.model} · {t.duration:g} s · {t.credits} credits · {status}"
            if t.takes > 1:
                name += f" · take {t.take}/{t.takes}" + (" · in the film" if t.chosen else "")
                facts = f"seed {t.seed} · {facts}"
                if t.chosen:
                    draw.rectangle((x - 4, y - 4, x + TILE_W + 3, y + TILE_H + 3), outline=CHOSEN, width=4)
            draw.text(
                (x, y + TILE_H + 6),
                name,
                font=bold,
                fill=CHOSEN if t.takes > 1 and t.chosen else (255, 255, 255),
            )
            draw.text((x, y + TILE_H + 32), facts, font=small, fill=(190, 190, 205))
            lines = wrap_text(f"“{t.narration}”", small, TILE_W)[:3] if t.narration else []
            for j, line in enumerate(lines):
                draw.text((x, y + TILE_H + 58 + j * 22), line, font=small, fill=(235, 225, 170))
    return sheet


def write_storyboard(ws: Workspace, plan: Plan) -> tuple[Path, Path]:
    ws.refuse_outputs_outside(ws.output_path())
    tiles = collect(ws, plan)
    out_dir = ws.output_path().parent
    png = out_dir / f"{ws.name}.storyboard.png"
    page = out_dir / f"{ws.name}.storyboard.html"
    scenes = len({t.scene for t in tiles})
    sheet = render_sheet(tiles, f"{ws.name} — {scenes} scenes, {plan.total_credits} credits")
    buf = io.BytesIO()
    sheet.save(buf, format="PNG")
    atomic_write_bytes(png, buf.getvalue())
    cells = "\n".join(
        f"<tr><td>{t.number}</td><td>{html.escape(t.scene)}</td>"
        f"<td>{f'{t.take}/{t.takes}' + (' (in the film)' if t.chosen else '') if t.takes > 1 else ''}</td>"
        f"<td>{'' if t.seed is None else t.seed}</td><td>{html.escape(t.model)}</td><td>{t.duration:g} s</td>"
        f"<td>{t.credits}</td><td>{'yes' if t.cached else 'no'}</td><td>{html.escape(t.narration)}</td></tr>"
        for t in tiles
    )
    facts = {
        "total_credits": plan.total_credits,
        "takes": {
            scene: [{"take": t.take, "seed": t.seed, "credits": t.credits, "cached": t.cached, "chosen": t.chosen}
                    for t in tiles if t.scene == scene]
            for scene in dict.fromkeys(t.scene for t in tiles if t.takes > 1)
        },
    }  # fmt: skip
    atomic_write_text(
        page,
        f"""<!doctype html>
<html><head><meta charset="utf-8"><title>{html.escape(ws.name)} storyboard</title>
<style>body{{font-family:sans-serif;background:#18181e;color:#eee}}td,th{{padding:4px 10px;text-align:left}}
img{{max-width:100%}}</style></head><body>
<h1>{html.escape(ws.name)}</h1><img src="{html.escape(png.name)}" alt="contact sheet">
<table><tr><th>#</th><th>scene</th><th>take</th><th>seed</th><th>model</th><th>duration</th><th>credits</th><th>cached</th><th>narration</th></tr>
{cells}</table>
<script type="application/json" id="plan">{html.escape(json.dumps(facts))}</script>
</body></html>
""",
    )
    return png, page
