"""Photo evidence: checked by content (not by file name), size-limited, stored under data_dir.

A photo is accepted if its first bytes say JPEG, PNG or WebP and, when Pillow is installed, it
also decodes as an image of sane dimensions. Files go to ``<data_dir>/photos/<school>/<item>/``
with a random name, plus a small JPEG thumbnail when Pillow is there (else the page scales the
original). Files written for a request that is then rolled back are deleted again.
"""

from __future__ import annotations

import io
import os
import uuid
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from starlette.datastructures import UploadFile

from houqin.web.errors import BadInput, TooLarge

MAX_PHOTO_BYTES = 8 * 2**20
MAX_PHOTOS = 5
THUMB_PX = 480
MAX_PIXELS = 60_000_000  # larger than any phone camera; refuses decompression bombs
TYPES = {"jpeg": ("jpg", "image/jpeg"), "png": ("png", "image/png"), "webp": ("webp", "image/webp")}
MEDIA = dict(TYPES.values())

try:  # Pillow is optional: without it, no thumbnails and only the magic-byte check
    from PIL import Image, ImageOps
except ImportError:  # pragma: no cover - depends on the environment
    Image = None  # type: ignore[assignment]


@dataclass(frozen=True)
class Photo:
    kind: str
    data: bytes
    name: str  # as the phone sent it, for messages only


def sniff(head: bytes) -> str | None:
    """The image type from its magic bytes."""
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    return None


def read_photos(uploads: list[UploadFile]) -> list[Photo]:
    """Check every upload before anything is written: all accepted, or none."""
    if len(uploads) > MAX_PHOTOS:
        raise BadInput(
            f"一次最多上传 {MAX_PHOTOS} 张照片。", f"At most {MAX_PHOTOS} photos at once."
        )
    photos = []
    for upload in uploads:
        name = (upload.filename or "photo")[:80]
        data = upload.file.read(MAX_PHOTO_BYTES + 1)
        if len(data) > MAX_PHOTO_BYTES:
            raise TooLarge(
                f"照片 {name} 太大：每张最多 {MAX_PHOTO_BYTES // 2**20} MB。未做任何更改。",
                f"Photo {name} is too large: at most {MAX_PHOTO_BYTES // 2**20} MB each. "
                "Nothing was changed.",
            )
        kind = sniff(data[:16])
        if kind is None or not _decodes(data):
            raise BadInput(
                f"{name} 不是照片：只接受 JPEG、PNG 或 WebP 图片。未做任何更改。",
                f"{name} is not a photo: only JPEG, PNG or WebP images are accepted. "
                "Nothing was changed.",
            )
        photos.append(Photo(kind, data, name))
    return photos


def _decodes(data: bytes) -> bool:
    if Image is None:
        return True
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as img:
                if img.width * img.height > MAX_PIXELS:
                    return False
                img.verify()
    except Exception:  # any decoder complaint means "not an image we keep"
        return False
    return True


def store(
    data_dir: Path,
    school: str,
    item_id: int,
    photos: list[Photo],
    on_rollback: Callable[[Callable[[], None]], None],
) -> list[str]:
    """Write the photos; return their paths relative to ``data_dir`` (as Evidence.path)."""
    folder = Path("photos") / school / str(item_id)
    (data_dir / folder).mkdir(parents=True, exist_ok=True)
    written: list[Path] = []

    def undo() -> None:
        for path in written:
            path.unlink(missing_ok=True)

    on_rollback(undo)
    paths = []
    for photo in photos:
        rel = folder / f"{uuid.uuid4().hex}.{TYPES[photo.kind][0]}"
        _write(data_dir / rel, photo.data, written)
        thumb = _thumbnail(photo.data)
        if thumb is not None:
            _write(data_dir / thumb_of(rel), thumb, written)
        paths.append(rel.as_posix())
    return paths


def _write(path: Path, data: bytes, written: list[Path]) -> None:
    tmp = path.with_suffix(path.suffix + ".part")
    written.append(path)
    tmp.write_bytes(data)
    os.replace(tmp, path)


def thumb_of(rel: Path | str) -> Path:
    rel = Path(rel)
    return rel.with_name(rel.stem + ".thumb.jpg")


def _thumbnail(data: bytes) -> bytes | None:
    if Image is None:
        return None
    with Image.open(io.BytesIO(data)) as img:
        small = ImageOps.exif_transpose(img).convert("RGB")
        small.thumbnail((THUMB_PX, THUMB_PX))
        out = io.BytesIO()
        small.save(out, "JPEG", quality=80)
        return out.getvalue()


def resolve(data_dir: Path, rel: str | None, *, thumb: bool) -> tuple[Path, str] | None:
    """The file to send for an Evidence.path, only if it lies in the photo store."""
    if not rel:
        return None
    root = (data_dir / "photos").resolve()
    path = (data_dir / rel).resolve()
    if not path.is_relative_to(root) or not path.is_file():
        return None  # e.g. a path the CLI recorded elsewhere on disk: never served
    if thumb and (data_dir / thumb_of(rel)).is_file():
        return (data_dir / thumb_of(rel)).resolve(), "image/jpeg"
    media = MEDIA.get(path.suffix.lstrip("."))
    return (path, media) if media else None
