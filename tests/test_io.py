"""lamp.io.atomic_path: the final name holds either the old file or the complete new one."""

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
