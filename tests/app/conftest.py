from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import copy_examples


@pytest.fixture(scope="session")
def hawker_preview(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The example built once with the free preview backend: (spec, stitched film). Read it, don't change it."""
    from vidspec.app.cli import main

    spec = copy_examples(tmp_path_factory.mktemp("hawker-preview") / "ex") / "hawker-noodles.yaml"
    with pytest.MonkeyPatch.context() as mp:
        for name in ("RUNWAYML_API_SECRET", "RUNWAYML_BASE_URL", "VIDSPEC_CACHE_DIR", "VIDSPEC_ALLOW_PATHS"):
            mp.delenv(name, raising=False)
        try:
            main(["build", str(spec), "--json", "--backend", "preview"])
        except SystemExit as exc:
            assert not exc.code, f"the preview build failed with exit {exc.code}"
    film = spec.parent / "build" / "hawker-noodles.preview.mp4"
    assert film.is_file()
    return spec, film
