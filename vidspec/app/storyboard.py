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


def collect(ws: Workspace, plan: Plan) -> list[Tile]:
    preview_store = Cache(ws.cache.root).store(PREVIEW)
    preview_keys = ws.keys if ws.namespace == PREVIEW else None
    if preview_keys is None:
        from vidspec.core.keys import FileDigests, graph_keys

        preview_keys = graph_keys(ws.graph, FileDigests(), PREVIEW)
    rows = {r.asset.name: r for r in plan.rows}
    tiles = []
    for rs in ws.graph.scenes:
        video = rows[f"{rs.id}.video"]
        credits = sum(r.asset.credits for r in plan.rows if r.asset.scene_id == rs.id)
        seconds = float(video.asset.seconds or 0)
        image, source = None, "card"
        for store, key, name in (
            (ws.store, video.key, ws.namespace),
            (preview_store, preview_keys[video.asset.name], PREVIEW),
        ):
            hit = store.get(key)
            if hit is not None:
                image = _frame(hit[1], seconds / 2)
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
                title=rs.id,
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
            )
        )
    return tiles


def render_sheet(tiles: list[Tile], title: str) -> Image.Image:
    rows = (len(tiles) + COLS - 1) // COLS
    head = 56
    width = COLS * TILE_W + (COLS + 1) * PAD
    height = head + rows * (TILE_H + TEXT_H + PAD) + PAD
    sheet = Image.new("RGB", (width, height), (24, 24, 30))
    draw = ImageDraw.Draw(sheet)
    draw.text((PAD, 14), title, font=font(26, bold=True), fill=(255, 255, 255))
    small, bold = font(17), font(19, bold=True)
    for i, t in enumerate(tiles):
        x = PAD + (i % COLS) * (TILE_W + PAD)
        y = head + (i // COLS) * (TILE_H + TEXT_H + PAD)
        sheet.paste(t.image, (x, y))
        status = "cached" if t.cached else f"from {t.source}" if t.source != "card" else "not built yet"
        draw.text((x, y + TILE_H + 6), f"{i + 1}. {t.scene}", font=bold, fill=(255, 255, 255))
        draw.text(
            (x, y + TILE_H + 32),
            f"{t.model} · {t.duration:g} s · {t.credits} credits · {status}",
            font=small,
            fill=(190, 190, 205),
        )
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
    sheet = render_sheet(tiles, f"{ws.name} — {len(tiles)} scenes, {plan.total_credits} credits")
    buf = io.BytesIO()
    sheet.save(buf, format="PNG")
    atomic_write_bytes(png, buf.getvalue())
    cells = "\n".join(
        f"<tr><td>{i + 1}</td><td>{html.escape(t.scene)}</td><td>{html.escape(t.model)}</td><td>{t.duration:g} s</td>"
        f"<td>{t.credits}</td><td>{'yes' if t.cached else 'no'}</td><td>{html.escape(t.narration)}</td></tr>"
        for i, t in enumerate(tiles)
    )
    atomic_write_text(
        page,
        f"""<!doctype html>
<html><head><meta charset="utf-8"><title>{html.escape(ws.name)} storyboard</title>
<style>body{{font-family:sans-serif;background:#18181e;color:#eee}}td,th{{padding:4px 10px;text-align:left}}
img{{max-width:100%}}</style></head><body>
<h1>{html.escape(ws.name)}</h1><img src="{html.escape(png.name)}" alt="contact sheet">
<table><tr><th>#</th><th>scene</th><th>model</th><th>duration</th><th>credits</th><th>cached</th><th>narration</th></tr>
{cells}</table>
<script type="application/json" id="plan">{html.escape(json.dumps({"total_credits": plan.total_credits}))}</script>
</body></html>
""",
    )
    return png, page
