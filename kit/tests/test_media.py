import io
import os
import stat
import struct
import zlib

import pytest
from PIL import Image, PngImagePlugin

from kit.errors import NotFound, PayloadTooLarge, UnsupportedMediaType, ValidationFailed
from kit.media import Media, inspect_upload, open_stored, store

GPS_IFD = 0x8825
ORIENTATION = 0x0112
MAKE = 0x010F


def _exif_with_gps(orientation=1):
    exif = Image.Exif()
    exif[MAKE] = "PhoneMaker"
    exif[ORIENTATION] = orientation
    exif[GPS_IFD] = {1: "N", 2: (31.0, 14.0, 0.0), 3: "E", 4: (121.0, 28.0, 0.0)}
    return exif


def _jpeg(size=(40, 20), exif=None, color="red"):
    buf = io.BytesIO()
    kwargs = {"exif": exif} if exif is not None else {}
    Image.new("RGB", size, color).save(buf, "JPEG", **kwargs)
    return buf.getvalue()


def _png(size=(8, 6), mode="RGB", **save_kwargs):
    buf = io.BytesIO()
    Image.new(mode, size).save(buf, "PNG", **save_kwargs)
    return buf.getvalue()


def _png_chunk(kind, body):
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)


def _reopen(data):
    img = Image.open(io.BytesIO(data))
    img.load()
    return img


# --- images -----------------------------------------------------------------------------------------------------

def test_jpeg_gps_and_exif_are_stripped():
    original = _jpeg(exif=_exif_with_gps())
    # The fixture really carries GPS, otherwise the test would prove nothing.
    assert _reopen(original).getexif().get_ifd(GPS_IFD)[1] == "N"

    media = inspect_upload(original)

    assert media == Media("image", "image/jpeg", "jpg", media.data, 40, 20)
    cleaned = _reopen(media.data)
    assert cleaned.format == "JPEG"
    assert "exif" not in cleaned.info
    assert len(cleaned.getexif()) == 0
    assert cleaned.getexif().get_ifd(GPS_IFD) == {}
    assert b"Exif" not in media.data
    assert b"PhoneMaker" not in media.data


def test_orientation_is_applied_before_exif_is_dropped():
    # Orientation 6 = rotate 90° clockwise to display: a 40x20 sensor image is shown 20x40.
    media = inspect_upload(_jpeg(size=(40, 20), exif=_exif_with_gps(orientation=6)))
    assert (media.width, media.height) == (20, 40)
    assert _reopen(media.data).size == (20, 40)


def test_png_passes_and_loses_text_and_exif_chunks():
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "secret location")
    original = _png(size=(8, 6), pnginfo=info, exif=_exif_with_gps())
    assert b"secret location" in original and b"eXIf" in original

    media = inspect_upload(original)

    assert (media.kind, media.content_type, media.extension, media.width, media.height) == (
        "image", "image/png", "png", 8, 6)
    assert media.data.startswith(b"\x89PNG\r\n\x1a\n")
    assert b"secret location" not in media.data
    assert b"eXIf" not in media.data
    assert _reopen(media.data).size == (8, 6)


def test_palette_png_keeps_transparency():
    img = Image.new("P", (4, 4), 0)
    img.putpalette([255, 0, 0, 0, 255, 0] + [0] * 762)
    buf = io.BytesIO()
    img.save(buf, "PNG", transparency=0)
    media = inspect_upload(buf.getvalue())
    assert _reopen(media.data).info.get("transparency") == 0


def test_webp_passes_and_loses_exif():
    buf = io.BytesIO()
    Image.new("RGB", (10, 10), "blue").save(buf, "WEBP", exif=_exif_with_gps())
    assert b"EXIF" in buf.getvalue()

    media = inspect_upload(buf.getvalue())

    assert (media.content_type, media.extension) == ("image/webp", "webp")
    assert media.data[:4] == b"RIFF" and media.data[8:12] == b"WEBP"
    assert b"EXIF" not in media.data
    assert len(_reopen(media.data).getexif()) == 0


def test_text_file_named_jpg_is_415():
    with pytest.raises(UnsupportedMediaType) as err:
        inspect_upload(b"just some text pretending to be photo.jpg")
    assert err.value.status == 415
    assert "image/jpeg" in err.value.details["accepted"]


@pytest.mark.parametrize("content", [b"", b"\xff\xd8", b"GIF89a" + b"\x00" * 20, b"<svg></svg>", b"%PDF-1.7"])
def test_unknown_or_short_content_is_415(content):
    with pytest.raises(UnsupportedMediaType):
        inspect_upload(content)


def test_corrupt_jpeg_is_415():
    with pytest.raises(UnsupportedMediaType) as err:
        inspect_upload(b"\xff\xd8\xff\xe0" + b"garbage" * 50)
    assert err.value.message == "not a readable image"


def test_truncated_png_is_415():
    data = _png(size=(64, 64), mode="RGB")
    with pytest.raises(UnsupportedMediaType):
        inspect_upload(data[: len(data) // 2])


def test_oversized_image_is_413():
    data = _jpeg()
    with pytest.raises(PayloadTooLarge) as err:
        inspect_upload(data, max_image_bytes=len(data) - 1)
    assert err.value.status == 413
    assert inspect_upload(data, max_image_bytes=len(data)).kind == "image"


def test_many_pixels_in_few_bytes_is_413():
    # A 1-bit 3000x3000 PNG compresses to a few hundred bytes but decodes to 9 megapixels.
    data = _png(size=(3000, 3000), mode="1")
    assert len(data) < 5000
    with pytest.raises(PayloadTooLarge) as err:
        inspect_upload(data, max_pixels=1_000_000)
    assert err.value.details == {"max_pixels": 1_000_000}


def test_forged_header_claiming_huge_dimensions_is_413():
    # A hand-made PNG whose IHDR claims 100000x100000 pixels with almost no data behind it.
    ihdr = struct.pack(">IIBBBBB", 100_000, 100_000, 1, 0, 0, 0, 0)
    data = (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr)
            + _png_chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + _png_chunk(b"IEND", b""))
    assert len(data) < 200
    with pytest.raises(PayloadTooLarge):
        inspect_upload(data)
    with pytest.raises(PayloadTooLarge):
        inspect_upload(data, max_pixels=10**12)  # Pillow's own bomb guard still answers 413


# --- videos -----------------------------------------------------------------------------------------------------

def _ftyp(brand):
    return b"\x00\x00\x00\x18ftyp" + brand + b"\x00\x00\x02\x00" + brand + b"mp41" + b"\x00" * 64


def test_mp4_is_accepted_as_is():
    data = _ftyp(b"isom")
    media = inspect_upload(data)
    assert media == Media("video", "video/mp4", "mp4", data, None, None)


def test_mov_and_webm_are_accepted():
    assert inspect_upload(_ftyp(b"qt  ")).content_type == "video/quicktime"
    webm = inspect_upload(b"\x1a\x45\xdf\xa3" + b"\x00" * 32)
    assert (webm.content_type, webm.extension) == ("video/webm", "webm")


def test_heic_photo_is_not_taken_for_a_video():
    with pytest.raises(UnsupportedMediaType):
        inspect_upload(_ftyp(b"heic"))


def test_oversized_video_is_413():
    data = _ftyp(b"mp42")
    with pytest.raises(PayloadTooLarge):
        inspect_upload(data, max_video_bytes=len(data) - 1)
    # The image limit does not apply to videos.
    assert inspect_upload(data, max_image_bytes=1).kind == "video"


# --- storage ----------------------------------------------------------------------------------------------------

def test_store_uses_random_name_mode_0640_and_round_trips(tmp_path):
    media = inspect_upload(_jpeg(exif=_exif_with_gps()))
    directory = tmp_path / "media" / "tickets"

    first = store(directory, media)
    second = store(directory, media)

    assert first != second
    assert len(first) == 36 and first.endswith(".jpg")
    assert all(c in "0123456789abcdef" for c in first[:32])
    assert stat.S_IMODE(os.stat(directory / first).st_mode) == 0o640
    assert sorted(os.listdir(directory)) == sorted([first, second])  # no temp file left behind
    assert open_stored(directory, first) == media.data


def test_open_stored_missing_file_is_404(tmp_path):
    with pytest.raises(NotFound):
        open_stored(tmp_path, "0" * 32 + ".png")


@pytest.mark.parametrize("name", [
    "../etc/passwd",
    "../" + "a" * 32 + ".jpg",
    "/etc/passwd",
    "a" * 32 + ".jpg/../../secret",
    "A" * 32 + ".jpg",
    "a" * 31 + ".jpg",
    "a" * 32 + ".php",
    "a" * 32 + ".jpg\n",
    "a" * 32 + ".jpg\x00.png",
    "",
    None,
])
def test_open_stored_rejects_names_store_cannot_produce(tmp_path, name):
    with pytest.raises(ValidationFailed):
        open_stored(tmp_path, name)


def test_a_pdf_is_accepted_only_where_documents_are():
    document = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
    with pytest.raises(UnsupportedMediaType) as refused:
        inspect_upload(document)
    assert "application/pdf" not in refused.value.details["accepted"]
    media = inspect_upload(document, kinds=("image", "document"))
    assert (media.kind, media.content_type, media.extension, media.data) == ("document", "application/pdf", "pdf",
                                                                             document)
    with pytest.raises(UnsupportedMediaType):
        inspect_upload(b"\x1a\x45\xdf\xa3webm", kinds=("image", "document"))  # a video where documents go
