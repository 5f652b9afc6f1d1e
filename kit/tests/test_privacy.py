"""The one phone-masking rule of the platform."""
import pytest

from kit.privacy import mask_phone


@pytest.mark.parametrize("phone, masked", [
    ("13812341234", "138****1234"),
    (" 13812341234 ", "138****1234"),
    ("+8613812341234", "+86*******1234"),
    ("12345", "***45"),
    ("12", "**"),
    ("", ""),
    (None, None),
])
def test_mask_phone(phone, masked):
    assert mask_phone(phone) == masked
