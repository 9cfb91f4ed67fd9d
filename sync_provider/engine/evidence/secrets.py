"""Credentials in Databricks specs and API replies: how to recognise them and how to keep them out of what Sync
stores and prints.

A cluster spec or a run's task parameters may hold a literal credential (an env var `DB_PASS`, a storage account
key in `spark_conf`, a JDBC URL with `password=`, a docker registry password, `--token xyz` in a task's
parameters). Sync refuses such literals in the specs it submits (`cluster_spec.check_no_literal_secrets`), but a
job defined in Databricks, or one submitted before, comes back through runs/get, clusters/get and clusters/events
as it is. `redact_secrets` masks them before anything is stored or printed; `{{secrets/scope/key}}` references
are kept, they are not secrets.
"""

from __future__ import annotations

import re
from typing import Any

MASK = "***"

#: A Databricks secret reference, the one safe way to name a credential in a spec.
SECRET_REFERENCE = re.compile(r"^\{\{\s*secrets/[^/\s{}]+/[^/\s{}]+\s*\}\}$")
#: Names (conf keys, env vars, parameter names, flags) whose value is a credential.
CREDENTIAL_NAME = re.compile(
    r"(secret|token|pass(?:word|wd|phrase)?(?![a-z])|pwd|credential|private[_.\-]?key|access[_.\-]?key"
    r"|api[_.\-]?key|account[_.\-]?key|\.sas\.|sas[_.\-]?token)",
    re.I,
)
#: Values that are credentials whatever they are called: Databricks, AWS and GitHub tokens.
CREDENTIAL_VALUE = re.compile(r"(dapi[0-9a-f]{32}|(AKIA|ASIA)[0-9A-Z]{16}|ghp_[0-9A-Za-z]{36})")
#: A password inside a longer value: `password=...` up to the next separator (a JDBC URL, a connection string), or
#: the user-info of a URL (`https://user:secret@host`; `host:port` is not one).
EMBEDDED_PASSWORD = re.compile(
    r"((?:password|passwd|pwd)\s*=\s*)[^;&\s]+|([a-z][a-z0-9+.-]*://[^/\s:@]+:)[^/\s@]+(?=@)", re.I
)
#: Names that sound like a credential but name something about one (where it is, what kind, its id): their
#: values are not secrets (`SECRET_SCOPE=etl`, `TOKEN_URL=https://...`, `PASSWORD_FILE=/dbfs/...`,
#: `spark.hadoop.fs.s3a.aws.credentials.provider`). Values are still checked for token shapes and passwords.
_ABOUT_A_CREDENTIAL = re.compile(r"[._-](url|uri|file|path|scope|provider|type|endpoint|id|name|enabled|mode)$", re.I)
#: A Java class name (`com.amazonaws.auth.InstanceProfileCredentialsProvider`): what `...credentials.provider` and
#: `...sas.token.provider.type` hold, a credential's name, not the credential.
_CLASS_NAME = r"(?:[a-z_$][\w$]*\.){2,}[A-Z][\w$]*"
_NOT_A_CREDENTIAL = re.compile(rf"^(?:(?i:true|false)|{_CLASS_NAME}(?:\s*,\s*{_CLASS_NAME})*)?$")
#: Task parameter keys that hold argument lists, where a credential follows its flag (`--token`, `xyz`).
_ARGUMENT_LISTS = ("parameters", "python_params", "jar_params", "spark_submit_params")


def mask_embedded_passwords(text: str) -> str:
    """`text` with each password inside it (EMBEDDED_PASSWORD) replaced by MASK."""
    return EMBEDDED_PASSWORD.sub(lambda m: (m.group(1) or m.group(2)) + MASK, text)


def is_secret_reference(value: Any) -> bool:
    return isinstance(value, str) and bool(SECRET_REFERENCE.match(value.strip()))


def is_literal_credential(name: str, value: Any) -> bool:
    """`value`, set under `name`, is a credential given in plain text (not a secret reference)."""
    text = str(value).strip()
    return bool(CREDENTIAL_VALUE.search(text) or EMBEDDED_PASSWORD.search(text)) or _named_credential(name, text)


def _named_credential(name: str, text: str) -> bool:
    """A value under a credential's name that is neither a secret reference nor a class name, boolean or blank."""
    return bool(name and CREDENTIAL_NAME.search(name) and not _ABOUT_A_CREDENTIAL.search(name)) and not (
        is_secret_reference(text) or _NOT_A_CREDENTIAL.match(text)
    )


def redact_secrets(obj: Any) -> Any:
    """A copy of a spec or API reply (dicts, lists, scalars) with every literal credential masked."""
    return _redact(obj, name="")


def _redact(obj: Any, name: str) -> Any:
    if isinstance(obj, dict):
        # A named parameter ({"name": "db_password", "default": ..., "value": ...}, as jobs' job_parameters are)
        # takes its name from its "name" field.
        named = obj.get("name") if isinstance(obj.get("name"), str) else None
        return {k: _redact(v, named if named and k in ("value", "default") else str(k)) for k, v in obj.items()}
    if isinstance(obj, list):
        return _redact_arguments(obj) if name in _ARGUMENT_LISTS else [_redact(v, name) for v in obj]
    if isinstance(obj, str):
        if CREDENTIAL_VALUE.search(obj) or _named_credential(name, obj.strip()):
            return MASK
        return mask_embedded_passwords(obj)
    if isinstance(obj, int | float) and not isinstance(obj, bool) and _named_credential(name, str(obj)):
        return MASK
    return obj


def _redact_arguments(args: list[Any]) -> list[Any]:
    """An argument list with the value after a credential flag (`--password x`) and `--password=x` masked."""
    out: list[Any] = []
    after_flag = False
    for arg in args:
        if not isinstance(arg, str):
            out.append(MASK if after_flag else _redact(arg, ""))
            after_flag = False
            continue
        flag, eq, value = arg.partition("=")
        if after_flag and not is_secret_reference(arg):
            out.append(MASK)
        elif eq and flag.startswith("-") and CREDENTIAL_NAME.search(flag) and not is_secret_reference(value):
            out.append(f"{flag}={MASK}")
        else:
            out.append(_redact(arg, ""))
        after_flag = arg.startswith("-") and not eq and bool(CREDENTIAL_NAME.search(arg))
    return out
