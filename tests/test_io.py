"""lamp.io.atomic_path: the final name holds either the old file or the complete new one; files lamp
wrote that no longer decode are named with the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from lamp.io import atomic_path


def test_success_renames_the_temporary_onto_the_path(tmp_path: Path) -> None:
    target = tmp_path / "new" / "folder" / "table.csv"
    with atomic_path(target) as temporary:
        assert temporary.parent == target.parent
        assert temporary.name.startswith(".table.csv.") and temporary.name.endswith(".tmp.csv")
        assert not target.exists()
        temporary.write_text("a,b\n")
    assert target.read_text() == "a,b\n"
    assert list(target.parent.iterdir()) == [target]


def test_an_exception_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "table.csv"
    target.write_text("old\n")
    with pytest.raises(RuntimeError, match="crashed"), atomic_path(target) as temporary:
        temporary.write_text("half")
        raise RuntimeError("crashed")
    assert target.read_text() == "old\n"
    assert list(tmp_path.iterdir()) == [target]


def test_concurrent_writers_get_distinct_temporaries(tmp_path: Path) -> None:
    target = tmp_path / "clip.mp4"
    with atomic_path(target) as first, atomic_path(target) as second:
        assert first != second
        first.write_text("first")
        second.write_text("second")
    assert target.read_text() == "first"  # the outer block finishes last


def test_atomic_directory_appears_whole_or_not_at_all(tmp_path: Path) -> None:
    from lamp.io import atomic_directory

    target = tmp_path / "model"
    with pytest.raises(RuntimeError, match="crashed"), atomic_directory(target) as temporary:
        (temporary / "weights").write_text("half")
        raise RuntimeError("crashed")
    assert list(tmp_path.iterdir()) == []
    with atomic_directory(target) as temporary:
        (temporary / "weights").write_text("whole")
    assert [p.name for p in tmp_path.iterdir()] == ["model"] and (target / "weights").read_text() == "whole"


def tamper_header(path: Path) -> None:
    """Turn the header's opening '{' into '[': still bytes of the right length, no longer its JSON."""
    data = bytearray(path.read_bytes())
    data[8] = ord("[")
    path.write_bytes(bytes(data))


def test_a_tampered_safetensors_file_is_named_with_the_fix(tmp_path: Path) -> None:
    import torch
    from safetensors.torch import save_file

    from lamp.io import CorruptFileError, load_safetensors

    path = tmp_path / "weights.safetensors"
    save_file({"w": torch.ones(2)}, path, metadata={"format": "lamp-test/1"})
    assert load_safetensors(path, "lamp-test/1")["w"].tolist() == [1.0, 1.0]
    with pytest.raises(CorruptFileError, match="not 'lamp-other/1'"):
        load_safetensors(path, "lamp-other/1")
    tamper_header(path)
    with pytest.raises(CorruptFileError) as caught:
        load_safetensors(path, "lamp-test/1", remove=tmp_path)
    message = str(caught.value)
    assert message.startswith(f"{path.as_posix()} is corrupt or not a lamp file (")
    assert "invalid JSON in header" in message
    assert message.endswith(
        f"Fix: delete {tmp_path.as_posix()} and re-run the stage that writes it (dvc repro), "
        "or restore it with `dvc checkout` if DVC tracks it."
    )


def test_a_tampered_dataset_file_is_named_with_the_fix(tmp_path: Path) -> None:
    import numpy as np
    from kedro.io import DatasetError

    from lamp.datasets import AtomicDataset

    path = tmp_path / "clips.safetensors"
    dataset = AtomicDataset(
        str(path), {"type": "kedro_datasets_experimental.safetensors.SafetensorsDataset", "backend": "numpy"}
    )
    dataset.save({"clip": np.zeros((2, 3), np.uint8)})
    tamper_header(path)
    with pytest.raises(DatasetError, match=f"{path.as_posix()} is corrupt or not a lamp file .*Fix: delete"):
        dataset.load()
