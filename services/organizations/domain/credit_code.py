"""The unified social credit code (统一社会信用代码, GB 32100-2015).

18 characters from a 31-character alphabet; the 18th is a check character over the first 17. Only the length, the
alphabet and that check character are validated: the embedded organization code (positions 9..17) is not checked,
because codes issued to individual businesses and some institutions do not always carry a valid GB 11714 part.
"""
from kit.errors import ValidationFailed

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # no I, O, Z, S, V: they read like digits
LENGTH = 18
WEIGHTS = [pow(3, i, 31) for i in range(LENGTH - 1)]  # 1, 3, 9, 27, 19, 26, ...
_VALUES = {char: value for value, char in enumerate(ALPHABET)}


def normalize_credit_code(text):
    """Strip surrounding blanks (including the full-width space) and upper-case."""
    if text is None:
        return ""
    return str(text).strip().strip("\u3000").strip().upper()


def _check_character(body17):
    total = sum(_VALUES[char] * weight for char, weight in zip(body17, WEIGHTS))
    return ALPHABET[(31 - total % 31) % 31]  # 31 maps to 0


def credit_code_problem(code):
    """What is wrong with a (normalized) code, as a sentence for the user; None when it is valid."""
    if not code:
        return "the unified social credit code is empty"
    if len(code) != LENGTH:
        return f"the unified social credit code must have {LENGTH} characters, not {len(code)}"
    for position, char in enumerate(code, start=1):
        if char not in _VALUES:
            return (f"character {char!r} at position {position} is not allowed "
                    f"(digits and capital letters except I, O, Z, S, V)")
    expected = _check_character(code[:-1])
    if code[-1] != expected:
        return f"wrong check character {code[-1]!r} at position {LENGTH}: expected {expected!r}"
    return None


def validate_credit_code(code):
    """The normalized code, or ValidationFailed with details {"credit_code": [message]}."""
    normalized = normalize_credit_code(code)
    problem = credit_code_problem(normalized)
    if problem:
        raise ValidationFailed("invalid unified social credit code", details={"credit_code": [problem]})
    return normalized


def make_credit_code(body17):
    """Append the check character to 17 characters (for demo and test data)."""
    body = normalize_credit_code(body17)
    if len(body) != LENGTH - 1 or any(char not in _VALUES for char in body):
        raise ValueError(f"need {LENGTH - 1} characters from {ALPHABET}, got {body17!r}")
    return body + _check_character(body)
