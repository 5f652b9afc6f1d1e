import pytest

from kit.errors import ValidationFailed
from services.organizations.domain.credit_code import (
    ALPHABET,
    WEIGHTS,
    credit_code_problem,
    make_credit_code,
    normalize_credit_code,
    validate_credit_code,
)

# Published codes of real companies; each passes the GB 32100 check.
PUBLISHED_CODES = ["91350100M000100Y43", "91110108551385082Q", "91440300708461136T", "914403001922038216"]


def test_weights_are_powers_of_three_mod_31():
    assert WEIGHTS == [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
    assert len(ALPHABET) == 31 and not set("IOZSV") & set(ALPHABET)


@pytest.mark.parametrize("code", PUBLISHED_CODES)
def test_published_codes_are_valid(code):
    assert credit_code_problem(code) is None
    assert validate_credit_code(code) == code


@pytest.mark.parametrize("code", PUBLISHED_CODES)
def test_make_credit_code_reproduces_published_check_character(code):
    assert make_credit_code(code[:17]) == code


def test_normalize_strips_and_upper_cases():
    assert normalize_credit_code("  91110108551385082q\u3000") == "91110108551385082Q"
    assert normalize_credit_code(None) == ""
    assert validate_credit_code(" 91110108551385082q ") == "91110108551385082Q"


def test_wrong_check_character_names_the_expected_one():
    problem = credit_code_problem("91110108551385082R")
    assert "check character" in problem and "'Q'" in problem


def test_bad_character_names_its_position():
    problem = credit_code_problem("9111010855138508IQ")
    assert "position 17" in problem and "'I'" in problem


@pytest.mark.parametrize("code", ["", "9111010855138508", "91110108551385082QQ"])
def test_wrong_length(code):
    problem = credit_code_problem(code)
    assert problem is not None
    assert "empty" in problem or "18 characters" in problem


def test_validate_raises_with_field_details():
    with pytest.raises(ValidationFailed) as raised:
        validate_credit_code("91110108551385082R")
    assert list(raised.value.details) == ["credit_code"]
    assert "expected 'Q'" in raised.value.details["credit_code"][0]


def test_every_single_character_change_is_caught():
    code = PUBLISHED_CODES[1]
    for position in range(18):
        for char in ALPHABET:
            if char != code[position]:
                assert credit_code_problem(code[:position] + char + code[position + 1:]) is not None


def test_check_value_31_maps_to_zero():
    # find a body whose weighted sum is a multiple of 31: its check character must be "0"
    for last in ALPHABET:
        body = "9143010000000000" + last
        if sum(ALPHABET.index(c) * w for c, w in zip(body, WEIGHTS)) % 31 == 0:
            assert make_credit_code(body)[-1] == "0"
            break
    else:
        pytest.fail("no body with a zero remainder in this family")


def test_make_credit_code_rejects_bad_bodies():
    with pytest.raises(ValueError):
        make_credit_code("914301")
    with pytest.raises(ValueError):
        make_credit_code("9143010000000000I")
    generated = make_credit_code("91430100MA4L00001")
    assert credit_code_problem(generated) is None
