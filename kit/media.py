"""Uploaded files: photos and short videos on tickets, photos and PDF documents on the disclosure board.

Uploads are checked by content, never by file name or declared Content-Type; images are decoded and re-encoded so
that EXIF (including GPS position), XMP, ICC and text chunks are dropped; files are stored under random names.

PDF documents (fee tables, contracts) are sniffed and size-checked and stored as uploaded, like videos; only callers
that pass `kinds` including "document" accept them.

Videos are only sniffed and size-checked and are stored as uploaded: stripping their metadata (which may hold GPS
position, e.g. the MP4 "©xyz" atom) needs ffmpeg, which this service does not ship. Clients should strip location
from videos before upload.
"""
import io
import os
import pathlib
import re
import secrets
from dataclasses import dataclass

from PIL import Image, ImageOps

from kit.errors import NotFound, PayloadTooLarge, UnsupportedMediaType, ValidationFailed

__all__ = ["Media", "ACCEPTED", "inspect_upload", "upload_dir", "store", "open_stored"]

ACCEPTED = ("image/jpeg", "image/png", "image/webp", "video/mp4", "video/quicktime", "video/webm", "application/pdf")

# Sniffed format -> (kind, content type, extension, Pillow format name).
_FORMATS = {
    "jpeg": ("image", "image/jpeg", "jpg", "JPEG"),
    "png": ("image", "image/png", "png", "PNG"),
    "webp": ("image", "image/webp", "webp", "WEBP"),
    "mp4": ("video", "video/mp4", "mp4", None),
    "mov": ("video", "video/quicktime", "mov", None),
    "webm": ("video", "video/webm", "webm", None),
    "pdf": ("document", "application/pdf", "pdf", None),
}

# ISO-BMFF brands that are still images (HEIC/AVIF) rather than video: an iPhone photo must not pass as an MP4.
_IMAGE_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1", b"avif", b"avis"}

_STORED_NAME = re.compile(r"[0-9a-f]{32}\.(jpg|png|webp|mp4|mov|webm|pdf)")

_JPEG_QUALITY = 85
_WEBP_QUALITY = 85


@dataclass(frozen=True)
class Media:
    kind: str  # "image" | "video" | "document"
    content_type: str
    extension: str
    data: bytes
    width: int | None
    height: int | None


def _unsupported(message="unsupported media type", kinds=("image", "video")):
    accepted = [content_type for kind, content_type, _e, _p in _FORMATS.values() if kind in kinds]
    return UnsupportedMediaType(message, details={"accepted": accepted})


def _sniff(content):
    if content[:3] == b"\xff\xd8\xff":
        return "jpeg"
    if content[:8] == b"\x89PNG\r\n\x1a\n":
        return "png"
    if len(content) >= 12 and content[:4] == b"RIFF" and content[8:12] == b"WEBP":
        return "webp"
    if len(content) >= 12 and content[4:8] == b"ftyp":
        brand = content[8:12]
        if brand in _IMAGE_BRANDS:
            return None
        return "mov" if brand == b"qt  " else "mp4"
    if content[:4] == b"\x1a\x45\xdf\xa3":
        return "webm"
    if content[:5] == b"%PDF-":
        return "pdf"
    return None


def inspect_upload(content: bytes, max_image_bytes=10 * 1024 * 1024, max_video_bytes=30 * 1024 * 1024,
                   max_pixels=40_000_000, kinds=("image", "video")) -> Media:
    """Sniff, bound and clean an upload of one of `kinds`; raise 415 for other, unknown or unreadable content, 413
    for too big (documents share the video bound).

    Images with more than `max_pixels` pixels are refused with 413 (PayloadTooLarge), not 422: the request is
    well-formed, the image is simply too large to process, and the bound protects memory against decompression
    bombs whose compressed size is tiny.
    """
    fmt = _sniff(content or b"")
    if fmt is None or _FORMATS[fmt][0] not in kinds:
        raise _unsupported(kinds=kinds)
    kind, content_type, extension, pil_format = _FORMATS[fmt]
    if kind in ("video", "document"):
        if len(content) > max_video_bytes:
            raise PayloadTooLarge(f"{kind} too large", details={"max_bytes": max_video_bytes})
        # Stored as is: see the module docstring about video metadata.
        return Media(kind, content_type, extension, bytes(content), None, None)

    if len(content) > max_image_bytes:
        raise PayloadTooLarge("image too large", details={"max_bytes": max_image_bytes})
    data, width, height = _reencode(content, pil_format, max_pixels)
    return Media(kind, content_type, extension, data, width, height)


def _too_many_pixels(max_pixels):
    return PayloadTooLarge("image has too many pixels", details={"max_pixels": max_pixels})


def _reencode(content, pil_format, max_pixels):
    try:
        # Image.open only reads the header, so the declared size is checked before any pixel is decoded.
        with Image.open(io.BytesIO(content), formats=[pil_format]) as img:
            width, height = img.size
            if width * height > max_pixels:
                raise _too_many_pixels(max_pixels)
            img.load()
            try:
                # Keeps the photo upright once the Orientation tag is gone with the rest of EXIF.
                clean = ImageOps.exif_transpose(img)
            except Exception:
                # Broken EXIF is no reason to refuse readable pixels; it is dropped anyway.
                clean = img.copy()
    except PayloadTooLarge:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        # Pillow's own global bound, when stricter than ours or turned into an error by a warnings filter.
        raise _too_many_pixels(max_pixels)
    except Exception:
        # Decoders of untrusted input fail in many ways (OSError, SyntaxError, ValueError, struct.error...).
        raise _unsupported("not a readable image")

    # Drop every piece of metadata the encoders would copy from .info (PNG copies ICC and eXIf from there);
    # only palette/grey transparency is pixel data in disguise and must survive.
    transparency = clean.info.get("transparency")
    clean.info = {} if transparency is None else {"transparency": transparency}

    out = io.BytesIO()
    try:
        if pil_format == "JPEG":
            if clean.mode not in ("RGB", "L", "CMYK"):
                clean = clean.convert("RGB")
            clean.save(out, "JPEG", quality=_JPEG_QUALITY, optimize=True)
        elif pil_format == "PNG":
            clean.save(out, "PNG", optimize=False)
        else:
            if clean.mode not in ("RGB", "RGBA"):
                clean = clean.convert("RGBA" if "A" in clean.getbands() or transparency is not None else "RGB")
            clean.save(out, "WEBP", quality=_WEBP_QUALITY)
    except Exception:
        raise _unsupported("not a readable image")
    return out.getvalue(), clean.width, clean.height


def upload_dir(settings, service):
    """Where a service keeps uploads: its `upload_dir` setting, under the var directory unless absolute."""
    path = pathlib.Path(settings[service]["upload_dir"])
    return path if path.is_absolute() else settings.var_dir / path


def store(directory: pathlib.Path, media: Media) -> str:
    """Write the media under a random name in `directory` and return that name.

    The random name keeps user-chosen names (and path tricks) out of the file system and makes names unguessable;
    the temp file + os.replace makes a half-written file never visible under its final name.
    """
    directory = pathlib.Path(directory)
    directory.mkdir(mode=0o750, parents=True, exist_ok=True)
    name = f"{secrets.token_hex(16)}.{media.extension}"
    if not _STORED_NAME.fullmatch(name):
        raise ValidationFailed("unsupported extension", details={"extension": media.extension})
    tmp = directory / f".{secrets.token_hex(8)}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
    try:
        os.fchmod(fd, 0o640)  # the umask may have narrowed or the platform widened the create mode
        with os.fdopen(fd, "wb") as fh:
            fd = None
            fh.write(media.data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, directory / name)
    except BaseException:
        if fd is not None:
            os.close(fd)
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    return name


def open_stored(directory: pathlib.Path, name: str) -> bytes:
    """Read a stored file; the name must be one `store` could have produced, so no path can escape `directory`."""
    if not isinstance(name, str) or not _STORED_NAME.fullmatch(name):
        raise ValidationFailed("invalid media name", details={"name": "invalid media name"})
    try:
        return (pathlib.Path(directory) / name).read_bytes()
    except FileNotFoundError:
        raise NotFound("media not found")
