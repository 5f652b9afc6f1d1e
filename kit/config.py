"""Settings: the YAML defaults, an optional YAML file, then environment variables, merged in that order."""
import copy
import os
import secrets
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
DEFAULTS_FILE = ROOT / "config" / "redprop.yaml"
PROFILES_DIR = ROOT / "infra" / "profiles"  # county profiles: which services a county deploys
PREFIX = "REDPROP"
SERVICE_NAMES = ("organizations", "tickets", "ratings", "notifications")


def _merge(base, override):
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            _merge(base[key], value)
        else:
            base[key] = value
    return base


def _set_path(tree, path, value):
    node = tree
    for key in path[:-1]:
        node = node.setdefault(key, {})
    node[path[-1]] = value


def _environment_overrides(environ):
    overrides = {}
    aliases = {"ENV": ("env",), "AMQP_URI": ("amqp_uri",), "JWT_SECRET": ("jwt", "secret"),
               "VAR_DIR": ("var_dir",), "DEMO_PASSWORD": ("demo", "password")}
    for name, value in environ.items():
        if not name.startswith(PREFIX + "_"):
            continue
        rest = name[len(PREFIX) + 1:]
        if rest.startswith("_"):  # REDPROP__a__b=value
            _set_path(overrides, rest[1:].lower().split("__"), yaml.safe_load(value))
        elif rest in aliases:
            _set_path(overrides, aliases[rest], value)
        elif rest.startswith("DB_URL_"):
            _set_path(overrides, ("services", rest[len("DB_URL_"):].lower(), "db_url"), value)
        elif rest == "DEPLOYED":
            _set_path(overrides, ("deployed",), [s for s in value.replace(",", " ").split() if s])
    return overrides


class Settings(dict):
    """The merged settings tree, with the few derived values every process needs."""

    @property
    def production(self):
        return self["env"] == "production"

    @property
    def var_dir(self):
        path = Path(self["var_dir"])
        return path if path.is_absolute() else ROOT / path

    def service(self, name):
        return self["services"][name]

    def db_url(self, service_name):
        url = self.service(service_name).get("db_url")
        if url:
            return url
        self.var_dir.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{self.var_dir / (service_name + '.db')}"

    def jwt_secret(self):
        if self["jwt"].get("secret"):
            return self["jwt"]["secret"]
        if "_jwt_secret" in self.__dict__:
            return self.__dict__["_jwt_secret"]
        if self.production:
            raise RuntimeError("REDPROP_JWT_SECRET must be set in production")
        # Development: one generated secret shared by the processes of this checkout.
        path = self.var_dir / "jwt-secret"
        if not path.exists():
            self.var_dir.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            tmp.write_text(secrets.token_urlsafe(48))
            os.replace(tmp, path)
        self.__dict__["_jwt_secret"] = path.read_text().strip()
        return self.__dict__["_jwt_secret"]


def profiles():
    return sorted(path.stem for path in PROFILES_DIR.glob("*.yaml"))


def load(environ=None, extra=None):
    """Defaults, then the county profile (REDPROP_PROFILE), the settings file (REDPROP_CONFIG), the environment's
    REDPROP_* values and `extra`, each overriding the one before."""
    environ = os.environ if environ is None else environ
    with open(DEFAULTS_FILE, encoding="utf-8") as fh:
        tree = yaml.safe_load(fh)
    if environ.get(PREFIX + "_PROFILE"):
        name = environ[PREFIX + "_PROFILE"]
        if name not in profiles():
            raise ValueError(f"unknown county profile {name!r}; choose from {', '.join(profiles())}")
        with open(PROFILES_DIR / f"{name}.yaml", encoding="utf-8") as fh:
            _merge(tree, yaml.safe_load(fh) or {})
    if environ.get(PREFIX + "_CONFIG"):
        with open(environ[PREFIX + "_CONFIG"], encoding="utf-8") as fh:
            _merge(tree, yaml.safe_load(fh) or {})
    _merge(tree, _environment_overrides(environ))
    if extra:
        _merge(tree, copy.deepcopy(extra))
    return Settings(tree)


def nameko_config(settings, service_name):
    """The config dict a nameko container runs with; our own settings ride along under REDPROP."""
    if service_name == "gateway":
        section = settings["gateway"]
        extra = {"WEB_SERVER_ADDRESS": f"{section['host']}:{section['port']}"}
    else:
        section = settings.service(service_name)
        extra = {}
    return {
        "AMQP_URI": settings["amqp_uri"],
        "max_workers": section.get("max_workers", 10),
        "serializer": "json",
        "HEARTBEAT": 30,
        "REDPROP": settings,
        "REDPROP_SERVICE": service_name,
        **extra,
    }


def settings_of(container):
    return container.config["REDPROP"]


from nameko.extensions import DependencyProvider  # noqa: E402


class SettingsProvider(DependencyProvider):
    """`self.settings` in a service: the merged settings tree."""

    def get_dependency(self, worker_ctx):
        return settings_of(self.container)
