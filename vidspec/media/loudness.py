"""Loudness (EBU R128): every sound brought to a level for its role, then the whole mix to the target.

Two stages, both plain gains (the ducking envelope and the fades stay as the stitcher draws them):

1. Per file: ffmpeg's ``loudnorm`` measures each narration, sound effect, clip soundtrack and music file
   once (first pass, ``print_format=json``); the measurement is cached by the file's sha256, so an
   unchanged asset is never measured again. :func:`plan_levels` turns it into a linear gain that puts the
   file at its role's level relative to the target: narration at the target, music at the target before
   ``music.volume`` and ducking, sound effects 4 LU and clip sound 6 LU under it (then ``sfx.volume``).
   A silent file (below -70 LUFS) keeps its level, and no file is raised by more than 36 dB (noise).
2. The mix: :func:`premix` renders the summed track once into a float WAV, measured by loudnorm on the
   way; :func:`fit_master` gives the filters the encode applies to that file: the one gain that puts its
   integrated loudness on the target, then a true-peak limiter (4x oversampled, delay-compensated) below the
   ceiling, so the cut ends at the target (-16 LUFS, <= -1 dBTP by default) without changing the balance
   between its parts. When its peaks reach the limiter, what the limiter takes off is measured
   (:func:`limiter_loss`, two ebur128 readings in one pass; loudnorm costs ~5x more) and, past RETRY_LU,
   given back in the gain. The filters are remembered by the sound's identity (:func:`mix_key`), so a
   change to the picture alone re-stitches without measuring anything.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

from vidspec.core.hashing import canonical_json, file_sha256, sha256_hex
from vidspec.errors import StitchError, WriteError
from vidspec.media.placement import AUDIO_RATE
from vidspec.media.probe import ffmpeg_exe, ffmpeg_write_error, run_ffmpeg
from vidspec.media.timeline import LoudnessTarget, Timeline
from vidspec.store.atomic import atomic_write_text

__all__ = [
    "MEASURE_FILTER",
    "fit_master",
    "limiter_loss",
    "RETRY_LU",
    "ROLE_OFFSET",
    "Levels",
    "Measurement",
    "master_file",
    "mix_key",
    "premix",
    "master_filters",
    "master_gain_db",
    "measure_file",
    "measure_with",
    "parse_loudnorm",
    "plan_levels",
    "recall_master",
    "remember_master",
    "unity",
]
MEASURE_FILTER = "loudnorm=print_format=json"  # first pass: figures printed, the audio untouched
MEASURE_VERSION = "loudnorm-1"  # in the cache file name: bump when the measurement changes
SILENT = -70.0  # LUFS: loudnorm's gate; below it a file is silence, not quiet sound
MAX_BOOST = 36.0  # dB; more than this only raises noise
MAX_CUT = -40.0
# Level of each role relative to the integrated target, in LU (before music.volume and sfx.volume).
ROLE_OFFSET: Mapping[str, float] = {"narration": 0.0, "music": 0.0, "sfx": -4.0, "clip": -6.0}
OVERSAMPLE = 4  # the limiter works at 4x the rate, so it sees (nearly) the true peaks
PEAK_MARGIN = 0.5  # dB under the ceiling: the AAC encoder and resampling overshoot a little
_JSON = re.compile(r"\{[^{}]*\"input_i\"[^{}]*\}", re.S)


@dataclass(frozen=True)
class Measurement:
    integrated: float  # LUFS
    true_peak: float  # dBTP
    lra: float  # LU
    threshold: float  # LUFS

    @property
    def silent(self) -> bool:
        return not math.isfinite(self.integrated) or self.integrated <= SILENT


def _number(text: object) -> float:
    try:
        value = float(str(text))
    except ValueError:
        return -math.inf
    return value if math.isfinite(value) else -math.inf


def parse_loudnorm(stderr: str) -> Measurement:
    """The first-pass figures from loudnorm's ``print_format=json`` block (the last one in ``stderr``)."""
    blocks = _JSON.findall(stderr)
    if not blocks:
        raise StitchError("loudnorm printed no measurement:\n" + "\n".join(stderr.splitlines()[-8:]))
    data = json.loads(blocks[-1])
    return Measurement(
        _number(data.get("input_i")),
        _number(data.get("input_tp")),
        max(0.0, _number(data.get("input_lra"))),
        _number(data.get("input_thresh")),
    )


def measure_with(path: Path, filters: Sequence[str] = ()) -> Measurement:
    """``path``'s loudness with ``filters`` applied first (not cached)."""
    proc = run_ffmpeg(
        "-nostats", "-i", str(path), "-map", "0:a:0", "-vn",
        "-af", ",".join([*filters, MEASURE_FILTER]), "-f", "null", "-",
    )  # fmt: skip
    if proc.returncode != 0:
        tail = "\n".join(proc.stderr.splitlines()[-6:])
        raise StitchError(f"could not measure the loudness of {path}:\n{tail}")
    return parse_loudnorm(proc.stderr)


def measure_file(path: Path, cache: Path | None = None, sha256: str | None = None) -> Measurement:
    """``path``'s loudness, from ``cache`` (a directory, by the file's sha256) when measured before."""
    if cache is None:
        return measure_with(path)
    try:
        digest = sha256 or file_sha256(path)
    except OSError:
        raise StitchError(f"input file not found: {path}") from None
    record = cache / f"{MEASURE_VERSION}-{digest.removeprefix('sha256:')}.json"
    try:
        data = json.loads(record.read_text(encoding="utf-8"))
        return Measurement(*(float(data[k]) for k in ("integrated", "true_peak", "lra", "threshold")))
    except (OSError, ValueError, KeyError, TypeError):
        pass  # not measured yet, or unreadable: measure again
    found = measure_with(path)
    cache.mkdir(parents=True, exist_ok=True)
    # json writes -inf as -Infinity, which json.loads reads back
    atomic_write_text(record, json.dumps(asdict(found), sort_keys=True) + "\n")
    return found


def role_gain_db(found: Measurement, role: str, target: LoudnessTarget) -> float:
    """The gain (dB) that puts a file measured as ``found`` at ``role``'s level; 0 for silence."""
    if found.silent:
        return 0.0
    gain = target.integrated + ROLE_OFFSET[role] - found.integrated
    return min(MAX_BOOST, max(MAX_CUT, gain))


def _linear(db: float) -> float:
    return float(10 ** (db / 20))


@dataclass(frozen=True)
class Levels:
    """Linear gains to apply to every sound of a timeline (1.0 everywhere when loudness is off)."""

    narration: tuple[float, ...]  # per scene
    sfx: tuple[tuple[float, ...], ...]  # per scene, per cue (before the cue's volume)
    clip: tuple[float, ...]  # per scene, the clip's own sound
    music: float = 1.0  # before music.volume


def unity(timeline: Timeline) -> Levels:
    n = len(timeline.scenes)
    return Levels((1.0,) * n, tuple((1.0,) * len(s.sfx) for s in timeline.scenes), (1.0,) * n)


def plan_levels(timeline: Timeline, clip_has_audio: Sequence[bool]) -> Levels:
    """Measure (or read from the cache) every sound the mix plays and return its gain for its role."""
    target = timeline.loudness
    if target is None:
        return unity(timeline)
    sums = dict(timeline.checksums)
    wanted: dict[tuple[str, Path], None] = {}
    for scene, has_audio in zip(timeline.scenes, clip_has_audio, strict=True):
        if scene.narration is not None:
            wanted["narration", scene.narration] = None
        for cue in scene.sfx:
            wanted["sfx", cue.path] = None
        if scene.keep_audio and has_audio:
            wanted["clip", scene.video] = None
    if timeline.music is not None:
        wanted["music", timeline.music.path] = None
    files = sorted({p for _, p in wanted})
    with ThreadPoolExecutor(max_workers=4) as pool:
        jobs = {p: pool.submit(measure_file, p, timeline.loudness_cache, sums.get(str(p))) for p in files}
        found = {p: job.result() for p, job in jobs.items()}

    def gain(role: str, path: Path) -> float:
        return _linear(role_gain_db(found[path], role, target))

    return Levels(
        narration=tuple(gain("narration", s.narration) if s.narration else 1.0 for s in timeline.scenes),
        sfx=tuple(tuple(gain("sfx", c.path) for c in s.sfx) for s in timeline.scenes),
        clip=tuple(
            gain("clip", s.video) if s.keep_audio and a else 1.0
            for s, a in zip(timeline.scenes, clip_has_audio, strict=True)
        ),
        music=gain("music", timeline.music.path) if timeline.music is not None else 1.0,
    )


# ---------------------------------------------------------------- the mix


RETRY_LU = 0.2  # a mastered mix further than this from the target gets its gain corrected once


def master_gain_db(mix: Measurement, target: LoudnessTarget, gain: float = 0.0) -> float:
    """The master gain that moves a mix measured as ``mix`` (after ``gain`` dB) onto the target."""
    return gain if mix.silent else min(MAX_BOOST, max(MAX_CUT, gain + target.integrated - mix.integrated))


def master_filters(gain: float, target: LoudnessTarget) -> list[str]:
    """Filters for the summed track: ``gain`` dB, then a true-peak limiter below the ceiling."""
    ceiling = _linear(target.true_peak - PEAK_MARGIN)
    return [
        f"volume={gain:.3f}dB",
        f"aresample={AUDIO_RATE * OVERSAMPLE}",
        f"alimiter=limit={ceiling:.6f}:attack=1:release=100:level=disabled:latency=1",
        f"aresample={AUDIO_RATE}",
    ]


def fit_master(bare: Measurement, loss: Callable[[float], float], target: LoudnessTarget) -> list[str]:
    """The master filters for a mix whose loudnorm first pass is ``bare``; ``loss(gain)``: the LU the limiter
    takes off the mix mastered with ``gain`` dB (asked only when its peaks will reach the limiter). A loss
    over RETRY_LU is given back in the gain, once."""
    if target.master_gain_db is not None:
        return master_filters(target.master_gain_db, target)
    gain = master_gain_db(bare, target)
    if bare.silent or bare.true_peak + gain <= target.true_peak - PEAK_MARGIN:
        return master_filters(gain, target)  # the limiter will not touch it: nothing to check
    taken = loss(gain)
    if taken > RETRY_LU:
        gain = min(MAX_BOOST, gain + taken)
    return master_filters(gain, target)


EBUR_FILTER = "ebur128=framelog=quiet"  # integrated loudness only: what the check compares
_EBUR_I = re.compile(
    r"\[Parsed_ebur128_(\d+) @ [^\]]*\] Summary:\s*Integrated loudness:\s*I:\s*(-?[\d.]+|-inf)", re.S
)


def limiter_loss(mix: Path, gain: float, target: LoudnessTarget) -> float:
    """LU the master's limiter takes off ``mix`` at ``gain`` dB: the mix with and without it, measured in one
    pass with ebur128 (a difference of one meter's readings; ebur128 runs ~5x faster than loudnorm)."""
    graph = (
        f"[0:a]asplit=2[a][b];[a]volume={gain:.3f}dB,{EBUR_FILTER}[plain];"
        f"[b]{','.join(master_filters(gain, target))},{EBUR_FILTER}[limited]"
    )
    proc = run_ffmpeg(
        "-nostats", "-i", str(mix), "-filter_complex", graph,
        "-map", "[plain]", "-f", "null", "-", "-map", "[limited]", "-f", "null", "-",
    )  # fmt: skip
    found = sorted((int(n), _number(i)) for n, i in _EBUR_I.findall(proc.stderr))
    if proc.returncode != 0 or len(found) != 2:
        tail = "\n".join(proc.stderr.splitlines()[-6:])
        raise StitchError(f"could not measure the mastered mix {mix}:\n{tail}")
    (_, plain), (_, limited) = found  # the plain branch's meter is parsed first
    return max(0.0, plain - limited) if math.isfinite(plain) and math.isfinite(limited) else 0.0


def master_file(mix: Path, out: Path, target: LoudnessTarget) -> None:
    """Master a rendered mix (any audio file) onto ``target`` into ``out`` (a 16-bit WAV)."""
    filters = fit_master(measure_with(mix), lambda gain: limiter_loss(mix, gain, target), target)
    proc = run_ffmpeg("-y", "-i", str(mix), "-af", ",".join(filters), "-c:a", "pcm_s16le", str(out))
    if proc.returncode != 0:
        tail = "\n".join(proc.stderr.splitlines()[-6:])
        raise StitchError(f"could not master the mix {mix}:\n{tail}")


# ---------------------------------------------------------------- remembered masters

MASTER_VERSION = "master-1"  # in the key: bump when the mastering changes


def mix_key(
    files: Sequence[tuple[Sequence[str], Path]],
    graph: Sequence[str],
    checksums: Sequence[tuple[str, str]],
    target: LoudnessTarget,
) -> str:
    """The identity of a sound: its filter graph, each input it reads (``files[i]``: the options and file of
    input i; by content, from ``checksums`` when listed), the target and the ffmpeg build."""
    sums = dict(checksums)
    text = ";".join(graph)
    used = sorted({int(i) for i in re.findall(r"\[(\d+):a\]", text)})

    def ident(path: Path) -> str:
        try:
            return sums.get(str(path)) or file_sha256(path)
        except OSError:
            raise StitchError(f"input file not found: {path}") from None

    return sha256_hex(
        canonical_json(
            {
                "version": [MASTER_VERSION, MEASURE_VERSION],
                "graph": text,
                "inputs": [[i, list(files[i][0]), ident(files[i][1])] for i in used],
                "target": asdict(target),
                "ffmpeg": Path(ffmpeg_exe()).name,
            }
        )
    )


def premix(
    input_args: Sequence[str], graph: Sequence[str], tmp: Path, output: Path
) -> tuple[Path, Measurement]:
    """The sound ``graph`` (ending in [aout]) rendered once into a float WAV in ``tmp`` (no clipping above
    0 dBFS) and measured on the way (loudnorm's first pass): the master is fitted on that file and the
    encode reads it, never mixing again."""
    wav = tmp / "mix.wav"
    script = tmp / "mix.txt"
    script.write_text(
        ";\n".join([*graph, "[aout]asplit=2[mix][bare]", f"[bare]{MEASURE_FILTER}[lm]"]), "utf-8"
    )
    proc = run_ffmpeg(
        "-y", "-nostats", *input_args, "-/filter_complex", str(script),
        "-map", "[mix]", "-c:a", "pcm_f32le", str(wav), "-map", "[lm]", "-f", "null", "-",
    )  # fmt: skip
    if proc.returncode != 0:
        full = ffmpeg_write_error(proc.returncode, proc.stderr)
        if full is not None:
            raise WriteError(output, full)  # the film the user asked for, not our scratch file
        tail = "\n".join(proc.stderr.splitlines()[-12:]) or f"exit status {proc.returncode}"
        raise StitchError(f"ffmpeg failed while mixing the sound of {output}:\n{tail}")
    return wav, parse_loudnorm(proc.stderr)


def recall_master(cache: Path | None, key: str) -> list[str] | None:
    """The master filters fitted before to the mix ``key`` (the same sound: a picture-only change)."""
    if cache is None:
        return None
    try:
        filters = json.loads((cache / f"mix-{key}.json").read_text(encoding="utf-8"))["filters"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    ok = isinstance(filters, list) and filters and all(isinstance(f, str) for f in filters)
    return list(filters) if ok else None


def remember_master(cache: Path | None, key: str, filters: Sequence[str]) -> None:
    if cache is None:
        return
    cache.mkdir(parents=True, exist_ok=True)
    atomic_write_text(cache / f"mix-{key}.json", json.dumps({"filters": list(filters)}) + "\n")
