"""Personal data shown to people who may not see it whole."""


def mask_phone(phone):
    """Hide the middle of a phone number for people who may not see it: 13812341234 → 138****1234."""
    if phone is None:
        return None
    phone = str(phone).strip()
    if len(phone) >= 11:
        return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]
    if len(phone) <= 2:
        return "*" * len(phone)
    return "*" * (len(phone) - 2) + phone[-2:]
