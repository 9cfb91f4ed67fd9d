"""Literal credentials in Databricks specs and API replies are masked before Sync stores or prints them."""

from __future__ import annotations

import json

import pytest

from sync_provider.engine.evidence.secrets import MASK, is_literal_credential, redact_secrets

SECRETS = ("hunter2", "x y z", "abc==", "p@ss", "xyz", "zzz", "pw", "dapi0123456789abcdef0123456789abcdef", "s3cr3t")


def _spec() -> dict:
    return {
        "spark_env_vars": {
            "DB_PASS": "hunter2",
            "SNOWFLAKE_PASSPHRASE": "x y z",
            "SOME_VAR": "dapi0123456789abcdef0123456789abcdef",
            "REGION": "eu-west-1",
            "DB_PASSWORD": "{{secrets/etl/db}}",
        },
        "spark_conf": {
            "spark.hadoop.fs.azure.account.key.acct.dfs.core.windows.net": "abc==",
            "spark.hadoop.javax.jdo.option.ConnectionURL": "jdbc:mysql://h/db?user=etl&password=p@ss&ssl=true",
            "spark.authenticate.secret": "s3cr3t",
            "spark.hadoop.fs.s3a.aws.credentials.provider": "com.amazonaws.auth.InstanceProfileCredentialsProvider",
            "spark.databricks.passthrough.enabled": "true",
            "spark.sql.shuffle.partitions": "200",
        },
        "docker_image": {"url": "registry/img:1", "basic_auth": {"username": "etl", "password": "pw"}},
        "tasks": [
            {
                "spark_python_task": {"parameters": ["--password", "p@ss", "--token=xyz", "--date", "2026-01-01"]},
                "notebook_task": {"base_parameters": {"api_token": "zzz", "date": "2026-01-01"}},
            }
        ],
        "job_parameters": [
            {"name": "db_password", "default": "hunter2", "value": "hunter2"},
            {"name": "date", "default": "2026-01-01"},
        ],
    }


def test_every_literal_credential_is_masked_and_nothing_else():
    out = redact_secrets(_spec())
    text = json.dumps(out)
    for secret in SECRETS:
        assert f'"{secret}"' not in text and f"={secret}" not in text, secret
    env, conf = out["spark_env_vars"], out["spark_conf"]
    assert env["DB_PASS"] == env["SNOWFLAKE_PASSPHRASE"] == env["SOME_VAR"] == MASK
    assert conf["spark.hadoop.javax.jdo.option.ConnectionURL"] == f"jdbc:mysql://h/db?user=etl&password={MASK}&ssl=true"
    assert out["docker_image"] == {"url": "registry/img:1", "basic_auth": {"username": "etl", "password": MASK}}
    params = out["tasks"][0]["spark_python_task"]["parameters"]
    assert params == ["--password", MASK, f"--token={MASK}", "--date", "2026-01-01"]
    assert out["tasks"][0]["notebook_task"]["base_parameters"] == {"api_token": MASK, "date": "2026-01-01"}
    assert out["job_parameters"] == [
        {"name": "db_password", "default": MASK, "value": MASK},
        {"name": "date", "default": "2026-01-01"},
    ]
    # What is not a credential stays as it was: references, class names, flags, ordinary settings.
    assert env["REGION"] == "eu-west-1" and env["DB_PASSWORD"] == "{{secrets/etl/db}}"
    for key in (
        "spark.hadoop.fs.s3a.aws.credentials.provider",
        "spark.databricks.passthrough.enabled",
        "spark.sql.shuffle.partitions",
    ):
        assert conf[key] == _spec()["spark_conf"][key]


def test_masking_is_idempotent_and_leaves_the_input_alone():
    spec = _spec()
    once = redact_secrets(spec)
    assert redact_secrets(once) == once
    assert spec == _spec()


@pytest.mark.parametrize(
    ("name", "value", "credential"),
    [
        ("DB_PASS", "hunter2", True),
        ("spark.hadoop.fs.azure.account.key.acct.blob.core.windows.net", "abc==", True),
        ("spark.hadoop.fs.azure.sas.container.acct.blob.core.windows.net", "sv=2020&sig=x", True),
        ("CONNECTION", "Server=h;Database=d;Password=p@ss", True),
        ("ANY", "AKIAABCDEFGHIJKLMNOP", True),
        ("PASSWORD", "Summer2024.Secret", True),
        ("DB_PASSWORD", "{{secrets/etl/db}}", False),
        (
            "spark.hadoop.fs.s3a.aws.credentials.provider",
            "org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider",
            False,
        ),
        (
            "spark.hadoop.fs.azure.sas.token.provider.type",
            "org.apache.hadoop.fs.azurebfs.sas.FixedSASTokenProvider",
            False,
        ),
        ("spark.databricks.passthrough.enabled", "true", False),
        ("spark.executor.memory", "8g", False),
        # Names about a credential (where it is, which scope, what kind) hold no secret; their values still count.
        ("SECRET_SCOPE", "etl", False),
        ("TOKEN_URL", "https://login.example.com/oauth2/token", False),
        ("PASSWORD_FILE", "/dbfs/secrets/db", False),
        ("TOKEN_URL", "https://bob:s3cret@login.example.com/", True),
        ("JDBC_URL", "jdbc:mysql://db.example.com:3306/sales", False),
    ],
)
def test_what_counts_as_a_literal_credential(name, value, credential):
    assert is_literal_credential(name, value) is credential
