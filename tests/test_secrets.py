"""Secret hygiene: the scanner on a fixture tree and its git history, and masking everywhere.

The fixture tree holds one live credential of each kind and each kind of placeholder, in a
real git repository whose history added and then removed a DSN. The values are generated
here, in the test, so that this file itself holds no live-looking credential.
"""

from __future__ import annotations

import base64
import json
import logging
import subprocess
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from occ.cli import app
from occ.contracts.secrets import mask, register_secrets
from occ.ops.secrets_scan import scan


def _jwt(role: str) -> str:
    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    header = part({"alg": "HS256", "typ": "JWT"})
    payload = part({"iss": "supabase", "ref": "abcdefghijklmnop", "role": role})
    return f"{header}.{payload}.{'Q' * 10}x7Yk2LmN9pR4sT6vW8zA1cE3"


# Assembled at run time: no live-looking literal in this file.
PASSWORD = "Wq9z" + "L2xK7mP4vR8s"
LIVE = {
    "database-url": f"DATABASE_URL=postgresql://app:{PASSWORD}@db.prod.internal:5432/shop",
    "shopify-token": "SHOPIFY_TOKEN=" + "shp" + "at_" + "9f8e7d6c5b4a39281706f5e4d3c2b1a0",
    "supabase-key": "SUPABASE=" + "sb_" + "secret_" + "Zx81LmQ0pRt5vW7yB2nC4dF6",
    "supabase-jwt": "SUPABASE_SERVICE=" + _jwt("service_role"),
    "google-private-key": '{"type": "service_account", "private_key": "-----BEGIN PRIVATE KEY'
    + '-----\\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\\n-----END PRIVATE KEY-----\\n"}',
    "openai-key": "OPENAI=" + "sk-" + "proj-" + "Tz8Kq2Lm9Xw4Rv6Ps1Nb3Yc5",
    "chatwoot-token": "chatwoot_api_token: " + "Hn7Rk2Vq9Lz4Xw8Mp3Tb",
    "assigned-secret": "STRIPE_SECRET=" + "Jk4#Vn8!Qz2Lw6Rp",
}
PLACEHOLDERS = [
    "DATABASE_URL=postgresql://user:password@host:5432/db",
    "LOCAL=postgres://postgres:postgres@127.0.0.1:54322/postgres",
    "SHOPIFY_TOKEN=<your shopify token>",
    "CHATWOOT_API_TOKEN=${CHATWOOT_API_TOKEN}",
    "API_KEY=$(cat /run/secrets/api_key)",
    "SECRET_KEY=xxxxxxxxxxxxxxxx",
    "password = changeme",
    "ADMIN_PASSWORD=example-password-here",
    "WEBHOOK_SECRET=your-webhook-secret",
    "ANON=" + _jwt("authenticated"),  # a JWT, but not a Supabase service/anon key
    "token = settings.api_token",
]


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
    )


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "tree"
    (root / "config").mkdir(parents=True)
    for number, (kind, line) in enumerate(LIVE.items()):
        (root / "config" / f"{number}-{kind}.env").write_text(f"# {kind}\n{line}\n")
    (root / "docs.md").write_text("# Setup\n" + "\n".join(PLACEHOLDERS) + "\n")
    (root / "ignored.env").write_text(LIVE["openai-key"] + "\n")
    (root / ".gitignore").write_text("ignored.env\n")
    (root / "logo.png").write_bytes(b"\x89PNG\x00\x00" + LIVE["shopify-token"].encode())
    _git(root, "init", "-q")
    _git(root, "add", ".")
    _git(root, "commit", "-qm", "tree")
    leaked = root / "deploy.sh"
    leaked.write_text(f"export DATABASE_URL=postgresql://deploy:{PASSWORD}x@10.0.0.5/prod\n")
    _git(root, "add", "deploy.sh")
    _git(root, "commit", "-qm", "add deploy script")
    leaked.unlink()
    _git(root, "commit", "-qam", "remove the DSN")
    return root


def test_each_live_kind_is_found_and_no_placeholder(tree: Path, monkeypatch: Any) -> None:
    monkeypatch.chdir(tree)
    result = scan([Path(".")])
    found = {(f.file, f.kind) for f in result.findings}
    expected = {(f"config/{number}-{kind}.env", kind) for number, kind in enumerate(LIVE)}
    assert found == expected
    for finding in result.findings:
        assert finding.line == 2
        assert finding.preview.endswith("…") and len(finding.preview) == 5
        assert finding.reason
    assert not any(f.file == "docs.md" for f in result.findings)  # placeholders
    assert not any(f.file in ("ignored.env", "logo.png") for f in result.findings)


def test_git_history_finds_the_dsn_that_was_removed(tree: Path, monkeypatch: Any) -> None:
    monkeypatch.chdir(tree)
    result = scan([Path(".")], git_history=True)
    history = [f for f in result.findings if f.commit]
    dsn = [f for f in history if f.file == "deploy.sh"]
    assert len(dsn) == 1 and dsn[0].kind == "database-url" and dsn[0].line == 1
    assert result.commits == 3


def test_cli_exit_codes_json_and_baseline(runner: CliRunner, tree: Path, monkeypatch: Any) -> None:
    monkeypatch.chdir(tree)
    result = runner.invoke(app, ["secrets", "scan", "--git-history"])
    assert result.exit_code == 1
    assert "config/0-database-url.env:2 database-url Wq9z…" in result.output
    assert PASSWORD not in result.output  # the scanner never prints what it found
    as_json = runner.invoke(app, ["secrets", "scan", "--git-history", "--json"])
    assert as_json.exit_code == 1
    Path("baseline.json").write_text(as_json.output)
    clean = runner.invoke(app, ["secrets", "scan", "--git-history", "--baseline", "baseline.json"])
    assert clean.exit_code == 0, clean.output
    assert "0 finding(s)" in clean.output and "acknowledged by the baseline" in clean.output
    for arguments, message in (
        (["missing-folder"], "does not exist"),
        (["--baseline", "nope.json"], "cannot read the baseline"),
    ):
        bad = runner.invoke(app, ["secrets", "scan", *arguments])
        assert bad.exit_code == 2 and message in bad.output, bad.output


def test_history_outside_a_repository_cannot_run(runner: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "plain").mkdir()
    result = runner.invoke(app, ["secrets", "scan", str(tmp_path / "plain"), "--git-history"])
    assert result.exit_code == 2
    assert "not a git repository" in result.output


def test_mask_hides_registered_values_and_every_credential_pattern() -> None:
    register_secrets(["Rq8vT3mZ9kLp"])
    text = "token Rq8vT3mZ9kLp; " + "; ".join(LIVE.values())
    masked = mask(text)
    assert "Rq8vT3mZ9kLp" not in masked and "Rq8v…" in masked
    assert PASSWORD not in masked
    for line in LIVE.values():
        secret = line.split("=", 1)[-1].split(": ", 1)[-1]
        assert secret not in masked, secret
    assert mask("postgresql://user:password@host:5432/db") == (
        "postgresql://user:password@host:5432/db"
    )  # a placeholder stays readable


def test_no_secret_reaches_any_output_or_file(
    runner: CliRunner, tmp_path: Path, monkeypatch: Any
) -> None:
    """Real-looking secrets in the settings; refresh, a sync to a failing mirror whose URL has
    a password, the sync-event export, the weekly packet: none of them prints or writes one."""
    shopify = "shp" + "at_" + "0a1b2c3d4e5f60718293a4b5c6d7e8f9"
    chatwoot = "Cw" + "9Lm2Xq7Rz4Vt8Kp3"
    mirror_password = "Mi" + "rr0rPw9xLq2Z"
    monkeypatch.setenv("OCC_SHOPIFY_ACCESS_TOKEN", shopify)
    monkeypatch.setenv("OCC_CHATWOOT_API_TOKEN", chatwoot)
    monkeypatch.setenv(
        "OCC_MIRROR_URL", f"postgresql+psycopg://occ_app:{mirror_password}@127.0.0.1:1/mirror"
    )
    monkeypatch.setenv("OCC_SYNC_ATTEMPTS_PER_RUN", "1")
    secrets = [shopify, chatwoot, mirror_password]
    printed = []
    for arguments in (
        ["demo", "--no-serve", "--now", "2026-11-26T15:00:00Z"],
        [
            "decisions",
            "add",
            "--scope",
            "ops",
            "--actor",
            "ops@example.com",
            "--action",
            f"rotated the mirror password {mirror_password}",
        ],
        ["decisions", "sync"],
        ["decisions", "export-events", "--out", "events.ndjson", "--kind", "all"],
        ["insights", "weekly", "--week-ending", "2026-11-26", "--now", "2026-11-27T10:00:00Z"],
        ["decisions", "list", "--json"],
    ):
        result = runner.invoke(app, arguments)
        printed.append(result.output)
    assert "error" in printed[2]  # the sync failed, and said so
    written = [
        path.read_bytes().decode("utf-8", "replace")
        for path in tmp_path.rglob("*")
        if path.is_file() and path.suffix not in (".png",)
    ]
    assert Path("events.ndjson").exists()
    for secret in secrets:
        for number, output in enumerate(printed):
            assert secret not in output, (secret, number)
        assert not [text for text in written if secret in text], secret


def test_every_log_record_is_masked(caplog: pytest.LogCaptureFixture) -> None:
    from occ.contracts.secrets import install_log_masking

    secret = "Lg" + "7Rq2Vx9Mz4Kp"
    register_secrets([secret])
    install_log_masking()
    with caplog.at_level("INFO"):
        logging.getLogger("occ.test.masking").warning("connecting with %s", secret)
        logging.getLogger("any.library").warning(f"dsn {LIVE['database-url']}")
    text = caplog.text
    assert secret not in text and "Lg7R…" in text
    assert PASSWORD not in text


@pytest.mark.parametrize(
    "baseline",
    [b"\xff\xfe not UTF-8", b'{"findings": [{}]}', b'{"results": {"a.env": [1]}}'],
    ids=["not-utf8", "finding-without-hash", "result-not-an-object"],
)
def test_an_unreadable_baseline_is_one_line_not_a_traceback(
    runner: CliRunner, tmp_path: Path, baseline: bytes
) -> None:
    (tmp_path / "a.env").write_text("LOG_LEVEL=info\n")
    (tmp_path / "baseline.json").write_bytes(baseline)
    result = runner.invoke(
        app,
        ["secrets", "scan", str(tmp_path / "a.env"), "--baseline", str(tmp_path / "baseline.json")],
    )
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert len(result.output.strip().splitlines()) == 1
    assert "baseline" in result.output
