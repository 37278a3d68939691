"""What a file really is, from its first bytes whatever its name says, and whether an MP4 is cut short.

A user's folder holds what phones, browsers and copies leave there: a photo renamed ``.gif``, a
download that stopped half-way. Naming what the file is ("a PNG image, not a video") or how it is
cut ("its 'mdat' box declares 1330 bytes but only 125 are there") tells the user what to do, where
a decoder's message ("broken metadata", "av_read_frame failed with 1094995529") does not.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass
from pathlib import Path

HEAD_BYTES = 4096  # enough for every signature below and for a fair guess at text


@dataclass(frozen=True)
class FileKind:
    """``name`` as a message says it ("a PNG image"); ``video`` when frames may be read from it.

    Unknown content counts as ``video``: the decoder knows formats this list does not, so it gets
    the last word.
    """

    name: str
    video: bool


EMPTY = FileKind("an empty file", video=False)
TEXT = FileKind("a text file", video=False)
PNG = FileKind("a PNG image", video=False)
JPEG = FileKind("a JPEG image", video=False)
WEBP = FileKind("a WebP image", video=False)
HEIF = FileKind("a HEIF/AVIF image", video=False)
PDF = FileKind("a PDF document", video=False)
ZIP = FileKind("a ZIP archive", video=False)
WAV = FileKind("a WAV audio file", video=False)
M4A = FileKind("an M4A audio file", video=False)
GIF = FileKind("a GIF image", video=True)
MP4 = FileKind("an MP4/QuickTime container", video=True)
MATROSKA = FileKind("a Matroska/WebM container", video=True)
AVI = FileKind("an AVI container", video=True)
UNKNOWN = FileKind("unknown content", video=True)

_PREFIXES = (
    (b"\x89PNG\r\n\x1a\n", PNG),
    (b"\xff\xd8\xff", JPEG),
    (b"GIF87a", GIF),
    (b"GIF89a", GIF),
    (b"\x1aE\xdf\xa3", MATROSKA),
    (b"%PDF-", PDF),
    (b"PK\x03\x04", ZIP),
)
_RIFF_FORMS = {b"AVI ": AVI, b"WEBP": WEBP, b"WAVE": WAV}
_STILL_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"mif1", b"msf1", b"avif", b"avis"}
_AUDIO_BRANDS = {b"M4A ", b"M4B ", b"M4P "}
# Old QuickTime files may start with any of these top-level boxes instead of 'ftyp'.
_QUICKTIME_BOXES = {b"moov", b"mdat", b"free", b"wide", b"skip", b"pnot"}
_TEXT_CONTROLS = set(b"\t\n\r\f\x1b")


def file_kind_of(path: str | os.PathLike[str]) -> FileKind:
    """The kind of the file at ``path``, from its first bytes."""
    with open(path, "rb") as handle:
        return file_kind(handle.read(HEAD_BYTES))


def file_kind(head: bytes) -> FileKind:
    """The kind of a file that starts with ``head``."""
    if not head:
        return EMPTY
    for prefix, kind in _PREFIXES:
        if head.startswith(prefix):
            return kind
    if head.startswith(b"RIFF") and head[8:12] in _RIFF_FORMS:
        return _RIFF_FORMS[head[8:12]]
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        return HEIF if brand in _STILL_BRANDS else M4A if brand in _AUDIO_BRANDS else MP4
    if head[4:8] in _QUICKTIME_BOXES:
        return MP4
    return TEXT if _is_text(head) else UNKNOWN


def mp4_cut(path: str | os.PathLike[str]) -> str:
    """How a file of MP4/QuickTime boxes is cut short, or "" when every top-level box is whole.

    A copy or download that stops early leaves the last box (mostly 'mdat', the frames) shorter
    than its header declares; a plain MP4 keeps its index ('moov') after the frames, so it loses
    that too. Files that are not boxes as expected get "": the decoder judges them.
    """
    size = Path(path).stat().st_size
    seen: set[bytes] = set()
    offset = 0
    with open(path, "rb") as handle:
        while offset < size:
            handle.seek(offset)
            header = handle.read(16)
            box_size, box_type = _box_header(header, size - offset)
            if box_size is None:
                return f"it ends inside a box header{_missing_index(seen)}"
            if box_size < 8:
                return ""
            if offset + box_size > size:
                name = box_type.decode("latin-1")
                return (
                    f"its {name!r} box declares {box_size} bytes but only {size - offset} are there"
                    f"{_missing_index(seen | {box_type})}"
                )
            seen.add(box_type)
            offset += box_size
    return ""


def _box_header(header: bytes, remaining: int) -> tuple[int | None, bytes]:
    """(size, type) of the box starting with ``header``; size None when the header itself is cut."""
    if len(header) < 8:
        return None, b""
    box_size, box_type = struct.unpack(">I4s", header[:8])
    if box_size == 1:  # a 64-bit size follows the type
        if len(header) < 16:
            return None, box_type
        box_size = struct.unpack(">Q", header[8:16])[0]
    elif box_size == 0:  # the box runs to the end of the file
        box_size = remaining
    return box_size, box_type


def _missing_index(seen: set[bytes]) -> str:
    return "" if b"moov" in seen else ", and its index (the 'moov' box) is missing"


def _is_text(head: bytes) -> bool:
    """No NUL or other control bytes, and UTF-8 (a character cut by the end of ``head`` allowed)."""
    if any(byte < 0x20 and byte not in _TEXT_CONTROLS for byte in head):
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as error:
        return error.start >= len(head) - 3 and error.reason == "unexpected end of data"
    return True
