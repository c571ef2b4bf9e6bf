"""A small, deterministic fuzzer over the example and golden specs (issue 9, item 9).

Each case mutates a real spec (byte flips, truncation, control characters, deep nesting, shifted
indentation, huge numbers, stray Unicode) and runs `vidspec validate --format json` on it in-process:
the exit is 0 or 1, never 70 or a traceback, and every error has a line and a column. A failure names
its case number: `pytest tests/app/test_fuzz_spec.py -k 'case_17'` runs it alone.
"""

from __future__ import annotations

import json
import random
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.helpers import run

ROOT = Path(__file__).resolve().parents[2]
SEEDS = sorted(
    p
    for folder in (ROOT / "examples", ROOT / "tests" / "golden")
    for p in folder.iterdir()
    if p.suffix in (".yaml", ".json") and not p.name.endswith(".expected.json")
)
CASES = 300
BATCH = 50  # cases per test function: a failure stays findable, the setup is shared

Mutation = Callable[[random.Random, bytes], bytes]
CONTROL = [chr(c) for c in range(0x20) if c not in (9, 10, 13)] + ["\x7f", "\x85", "\x9b", "\u200e", "\u202e",
                                                                   "\u2028", "\ufeff", "\ufffe", "\ud7ff"]  # fmt: skip


def _at(rng: random.Random, data: bytes) -> int:
    return rng.randrange(len(data) + 1)


def flip_bytes(rng: random.Random, data: bytes) -> bytes:
    b = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        if b:
            b[rng.randrange(len(b))] = rng.randrange(256)
    return bytes(b)


def truncate(rng: random.Random, data: bytes) -> bytes:
    return data[: _at(rng, data)]


def control_char(rng: random.Random, data: bytes) -> bytes:
    i = _at(rng, data)
    return data[:i] + rng.choice(CONTROL).encode("utf-8", "surrogatepass") + data[i:]


def deep_nesting(rng: random.Random, data: bytes) -> bytes:
    n = rng.choice([30, 250, 990, 1500, 5000])
    inner = rng.choice(["[" * n + "]" * n, "{a: " * n + "}" * n, "[" * n, '{"a": ' * n + "1" + "}" * n])
    lines = data.split(b"\n")
    at = rng.randrange(len(lines) + 1)
    indent = rng.choice([b"", b"  ", b"    "])
    return b"\n".join([*lines[:at], indent + b"deep: " + inner.encode(), *lines[at:]])


def deep_block(rng: random.Random, data: bytes) -> bytes:
    n = rng.choice([50, 300, 1200])
    block = "".join(" " * i + "- \n" if rng.random() < 0.5 else " " * i + "k:\n" for i in range(n))
    return data + b"\nblock:\n" + block.encode()


def shift_indent(rng: random.Random, data: bytes) -> bytes:
    lines = data.split(b"\n")
    i = rng.randrange(len(lines))
    if rng.random() < 0.5:
        lines[i] = b" " * rng.randint(1, 3) + lines[i]
    else:
        lines[i] = lines[i][rng.randint(1, 3) :] if lines[i].startswith(b" ") else b"\t" + lines[i]
    return b"\n".join(lines)


def drop_or_repeat_line(rng: random.Random, data: bytes) -> bytes:
    lines = data.split(b"\n")
    i = rng.randrange(len(lines))
    lines[i : i + 1] = [] if rng.random() < 0.5 else [lines[i], lines[i]]
    return b"\n".join(lines)


def huge_number(rng: random.Random, data: bytes) -> bytes:
    digits = [i for i, ch in enumerate(data) if 48 <= ch <= 57]
    if not digits:
        return data
    i = rng.choice(digits)
    big = rng.choice([b"9" * 400, b"-" + b"9" * 400, b"1e999", b".inf", b"7" * 5000, b"0x" + b"f" * 300])
    return data[:i] + big + data[i + 1 :]


def stray_unicode(rng: random.Random, data: bytes) -> bytes:
    i = _at(rng, data)
    piece = rng.choice(["é", "🎻", "日本語", "\u0301", "\ufeff", '"', "'", ":", "- ", "&a", "*a", "!!python/object", "{",
                        "]", "\\0", "\\e", "\\u0000", "\\x85", "a" * 300, "/" * 5000, "../" * 40])  # fmt: skip
    return data[:i] + piece.encode() + data[i:]


MUTATIONS: list[Mutation] = [flip_bytes, truncate, control_char, deep_nesting, deep_block, shift_indent,
                             drop_or_repeat_line, huge_number, stray_unicode]  # fmt: skip


def fuzzed(case: int) -> tuple[Path, bytes, str]:
    rng = random.Random(case)
    seed = SEEDS[case % len(SEEDS)]
    data = seed.read_bytes()
    names = []
    for _ in range(rng.choice([1, 1, 2, 3])):
        mutation = rng.choice(MUTATIONS)
        data = mutation(rng, data)
        names.append(mutation.__name__)
    return seed, data, f"case_{case} ({seed.name}: {', '.join(names)})"


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("fuzz")
    shutil.copytree(ROOT / "examples" / "assets", d / "assets")  # so file rules look at real inputs
    return d


@pytest.mark.parametrize("batch", range(CASES // BATCH))
def test_fuzzed_specs_exit_0_or_1_with_every_error_placed(
    workdir: Path, batch: int, capsys: pytest.CaptureFixture[str]
) -> None:
    for case in range(batch * BATCH, (batch + 1) * BATCH):
        seed, data, name = fuzzed(case)
        spec = workdir / f"case{seed.suffix}"
        spec.write_bytes(data)
        code, out, err = run(["validate", "--format", "json", str(spec)], capsys)
        assert code in (0, 1), f"{name}: exit {code}\n{err}"
        for d in json.loads(out)["diagnostics"]:
            if d["severity"] == "error":
                assert isinstance(d["line"], int) and isinstance(d["column"], int), f"{name}: {d}"
                assert d["line"] >= 1 and d["column"] >= 1, f"{name}: {d}"
        code, out, err = run(["validate", str(spec)], capsys)
        assert code in (0, 1), f"{name}: exit {code}\n{err}"
        assert not any(ch < " " and ch not in "\t\n" for ch in out), f"{name}: a raw control character\n{out}"
        if case % 10 == 0:
            code, out, err = run(["plan", str(spec), "--cache-dir", str(workdir / "cache")], capsys)
            assert code in (0, 1), f"{name}: plan exit {code}\n{err}"
