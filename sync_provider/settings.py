"""Installation settings: the `sync` connection's fields (or ~/.sync/config), parsed and validated.

Kept free of Airflow so the CLI, the store and tests share one definition. Every bad value is reported with the
field's name and what it accepts, before anything touches the store or Databricks.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from sync_provider.engine.evidence.catalog import Catalog
from sync_provider.engine.evidence.cost import CostModel, PricingSettings
from sync_provider.engine.evidence.secrets import mask_embedded_passwords
from sync_provider.engine.models import ApplyMode, ComputeType, Plan, Preference

if TYPE_CHECKING:
    from sync_provider.store import SyncStore

EXTRA_PREFIX = "extra__sync__"
STORE_URL_ENV = "SYNC_STORE_URL"

# Human labels the Connections UI (or a hand-written extra) may use for the enum fields.
_ALIASES: dict[str, dict[str, str]] = {
    "compute_type": {
        "jobs compute": "jobs",
        "jobs_compute": "jobs",
        "jobs-compute": "jobs",
        "jobs light": "jobs_light",
        "jobs-light": "jobs_light",
        "jobs light compute": "jobs_light",
        "all-purpose": "all_purpose",
        "all purpose": "all_purpose",
        "all-purpose compute": "all_purpose",
        "all purpose compute": "all_purpose",
    },
    "apply_mode": {"dry_run": "dry-run", "dry run": "dry-run", "dryrun": "dry-run"},
}
_ENUM_FIELDS: dict[str, type[Enum]] = {
    "preference": Preference,
    "plan": Plan,
    "compute_type": ComputeType,
    "apply_mode": ApplyMode,
}
_INIT_SCRIPT_PREFIXES = ("workspace:/", "/Workspace/", "/Users/", "/Shared/", "/Volumes/", "s3://", "dbfs:/")


class SettingsError(ValueError):
    """A `sync` connection field (or config file entry) is malformed; the message names it and the fix."""


class SyncSettings(BaseModel):
    """The `sync` connection's fields, validated. Unknown fields are refused so typos do not pass silently."""

    model_config = ConfigDict(extra="forbid", use_enum_values=False)

    store_url: str | None = Field(default=None, repr=False)  # may hold a password: kept out of repr and logs
    preference: Preference = Preference.ECONOMY
    plan: Plan = Plan.PREMIUM
    compute_type: ComputeType = ComputeType.JOBS
    log_destination: str | None = None
    log_region: str | None = None
    init_script_path: str | None = None
    apply_mode: ApplyMode = ApplyMode.AUTO
    catalog_override: str | None = None
    dbu_usd: float | None = Field(default=None, gt=0)
    photon_dbu_multiplier: float | None = Field(default=None, gt=0)
    spot_discount: float | None = Field(default=None, ge=0, lt=1)
    aws_endpoint_url: str | None = None
    databricks_conn_id: str = "databricks_default"
    aws_conn_id: str | None = "aws_default"
    strict: bool = False

    @field_validator("store_url")
    @classmethod
    def _check_store_url(cls, v: str | None) -> str | None:
        if v is None:
            return None
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        try:
            make_url(v)
        except ArgumentError:
            raise ValueError(
                "is not a SQLAlchemy URL; use e.g. sqlite:////path/to/sync.db or "
                "postgresql+psycopg2://user:password@host:5432/dbname"
            ) from None
        return v

    @field_validator("log_destination")
    @classmethod
    def _check_log_destination(cls, v: str | None) -> str | None:
        if v is None:
            return None
        if re.fullmatch(r"s3://[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9](/.*)?", v):
            return v.rstrip("/")
        if re.fullmatch(r"dbfs:/[^\s]*[^\s/]", v):
            return v.rstrip("/")
        raise ValueError(
            f"{v!r} is not a cluster log destination; use s3://bucket/prefix (lower-case bucket name) or dbfs:/path"
        )

    @field_validator("init_script_path")
    @classmethod
    def _check_init_script(cls, v: str | None) -> str | None:
        if v is None:
            return None
        if not v.startswith(_INIT_SCRIPT_PREFIXES) or v.endswith("/"):
            raise ValueError(
                f"{v!r} is not an init script location; use workspace:/Shared/sync/collector_init.sh, "
                "a /Volumes/... path, s3://bucket/key.sh or dbfs:/path/script.sh"
            )
        return v

    @field_validator("log_region")
    @classmethod
    def _check_region(cls, v: str | None) -> str | None:
        if v is not None and not re.fullmatch(r"[a-z]{2}(-gov)?-[a-z]+-\d", v):
            raise ValueError(f"{v!r} is not an AWS region; use e.g. us-east-1 or eu-west-1")
        return v

    # ------------------------------------------------------------------ construction

    @classmethod
    def from_extras(cls, extras: Mapping[str, Any] | str | None) -> SyncSettings:
        """Build settings from a connection's extra (a dict or its JSON text).

        Accepts plain keys and the Connections UI's `extra__sync__<field>` keys, human labels for the enum fields
        ("Jobs Compute", "Premium") and empty strings for unset fields.
        """
        if extras is None or (isinstance(extras, str) and not extras.strip()):
            extras = {}
        if isinstance(extras, str):
            try:
                extras = json.loads(extras)
            except json.JSONDecodeError as exc:
                raise SettingsError(
                    f"the sync connection's extra is not valid JSON ({exc.msg} at line {exc.lineno} column "
                    f'{exc.colno}); give a JSON object such as {{"preference": "economy"}}'
                ) from None
        if not isinstance(extras, Mapping):
            raise SettingsError(
                f"the sync connection's extra must be a JSON object, got {type(extras).__name__}; "
                'give e.g. {"store_url": "sqlite:////tmp/sync.db"}'
            )
        data: dict[str, Any] = {}
        for key, value in extras.items():
            name = str(key).removeprefix(EXTRA_PREFIX)
            if isinstance(value, str):
                value = value.strip()
                if value == "":
                    continue
            if value is None:
                continue
            data[name] = value
        unknown = sorted(set(data) - set(cls.model_fields))
        if unknown:
            raise SettingsError(
                f"unknown sync connection field(s) {', '.join(unknown)}; accepted fields: {', '.join(cls.model_fields)}"
            )
        for name, enum in _ENUM_FIELDS.items():
            if name in data:
                data[name] = _parse_enum(name, enum, data[name])
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            err = exc.errors()[0]
            field = ".".join(str(p) for p in err["loc"])
            msg = err["msg"].removeprefix("Value error, ")
            raise SettingsError(f"sync connection field {field!r}: {msg}") from None

    def to_extras(self) -> dict[str, Any]:
        """The non-default fields as a JSON-able dict (what a connection extra or config file would hold)."""
        return self.model_dump(mode="json", exclude_defaults=True)

    # ------------------------------------------------------------------ derived objects

    def resolved_store_url(self) -> str:
        """The store URL: the field, else $SYNC_STORE_URL, else a SQLite file under $AIRFLOW_HOME or ~/.sync."""
        if self.store_url:
            return self.store_url
        env = os.environ.get(STORE_URL_ENV)
        if env:
            return env
        home = os.environ.get("AIRFLOW_HOME")
        path = Path(home) / "sync_provider.db" if home else Path.home() / ".sync" / "sync.db"
        path.parent.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{path}"

    def pricing(self) -> PricingSettings:
        extra: dict[str, Any] = {}
        if self.log_region:
            extra["region"] = self.log_region
        return PricingSettings(
            plan=self.plan,
            compute_type=self.compute_type,
            dbu_usd=self.dbu_usd,
            photon_dbu_multiplier=self.photon_dbu_multiplier,
            spot_discount=self.spot_discount,
            **extra,
        )

    def catalog(self) -> Catalog:
        try:
            return Catalog.default().with_override_spec(self.catalog_override)
        except (ValueError, json.JSONDecodeError) as exc:
            raise SettingsError(f"sync connection field 'catalog_override': {exc}") from None

    def cost_model(self) -> CostModel:
        return CostModel(self.catalog(), self.pricing())

    def open_store(self) -> SyncStore:
        from sync_provider.store import SyncStore

        return SyncStore(self.resolved_store_url())


def _parse_enum(name: str, enum: type[Enum], value: Any) -> Enum:
    if isinstance(value, enum):
        return value
    text = str(value).strip().lower()
    text = _ALIASES.get(name, {}).get(text, text)
    try:
        return enum(text)
    except ValueError:
        accepted = ", ".join(str(m.value) for m in enum)
        raise SettingsError(f"sync connection field {name!r}: unknown value {value!r}; accepted: {accepted}") from None


def redact_url(url: str) -> str:
    """A store URL fit for logs: the password replaced by ***, in the user part and in the query string
    (`?password=...`, which psycopg2 accepts too)."""
    from sqlalchemy.engine import make_url

    try:
        shown = make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - never let logging a URL fail
        shown = re.sub(r"://([^:/@]+):[^@]*@", r"://\1:***@", url)
    return mask_embedded_passwords(shown)
