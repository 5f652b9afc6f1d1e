"""A consumer service for the fault and CLI tests, and the helpers that drive it."""
from kit.auth import system_token
from kit.rpc import standalone_call
from services.organizations.domain.credit_code import make_credit_code

PROBE = "tests.probe.service:ProbeService"


def register_company(settings, name, n):
    """Register a company through organizations' RPC as the system; the probe hears of it."""
    return standalone_call(settings, "organizations", "create_company", token=system_token(settings),
                           data={"name": name, "credit_code": make_credit_code(f"91371526MA{n:07d}")})
