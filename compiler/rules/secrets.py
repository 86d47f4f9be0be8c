"""Text that looks like a secret in inline commands (C-05). Patterns are compiled once, on first use.

A match names the kind of secret and a redacted excerpt; the secret itself is never repeated.
Values that are variable references (`$PW`, `${PW}`, `$env:PW`, `$(cat f)`) are not secrets.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable

from ..records import dataclass

# Not a value: a variable or command substitution, an option, a path (`/etc/app.conf`) or a regex (`.*`).
_VALUE = r"""(?P<q>['"]?)(?P<v>(?![$%][({A-Za-z_]|\$\{|\$env:|-|\(|\[|/|\.\*)[^\s'"]{3,})(?P=q)"""
# SECRET_NAME=, TOKEN_URL=, KEY_VAULT_NAME= ... name where a secret lives, not the secret itself.
_NOT_SECRET_SUFFIX = (
    r"(?!_?(?:NAME|URL|URI|PATH|FILE|ID|TYPE|VAULT|ENDPOINT|LENGTH|LEN|POLICY|SCOPE|HEADER|EXPIRY)\b)"
)

_SOURCES: tuple[tuple[str, Callable[[], re.Pattern[str]]], ...] = (
    ("an openssl pass: argument", lambda: re.compile(r"(?i)-pass(?:in|out)?\s+pass:(?P<v>[^\s'\"]{3,})")),
    ("an Azure storage account key", lambda: re.compile(r"(?<![A-Za-z0-9+/])(?P<v>[A-Za-z0-9+/]{86}==)")),
    ("a private key", lambda: re.compile(r"-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----")),
    ("an AWS access key id", lambda: re.compile(r"\b(?P<v>(?:AKIA|ASIA)[0-9A-Z]{16})\b")),
    ("a GitHub token", lambda: re.compile(r"\b(?P<v>(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,}))")),
    ("a Slack token", lambda: re.compile(r"\b(?P<v>xox[abposr]-[A-Za-z0-9-]{10,})")),
    ("a JSON web token", lambda: re.compile(r"\b(?P<v>eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]+)")),
    (
        "a storage account key or connection string",
        lambda: re.compile(r"(?i)\b(?:AccountKey|SharedAccessKey|SharedAccessSignature)\s*=\s*(?P<v>[^;\s'\"]{8,})"),
    ),
    ("a SAS token signature", lambda: re.compile(r"(?i)[?&]sig=(?P<v>[A-Za-z0-9%/+=]{16,})")),
    ("a bearer token", lambda: re.compile(r"(?i)\b(?:Bearer|Basic)\s+(?P<v>(?![$%])[A-Za-z0-9\-._~+/]{16,}=*)")),
    (
        "a password in a connection string",
        lambda: re.compile(r"(?i)(?:^|[;\s'\"])(?:Password|Pwd)\s*=(?P<v>(?![$%/])[^;\s'\"]{3,})"),
    ),
    ("an AWS secret key", lambda: re.compile(r"(?i)aws_secret_access_key\s*[=:]\s*" + _VALUE)),
    (
        "a secret assignment",
        lambda: re.compile(
            r"(?i)\b[A-Z0-9_]*(?:PASSWORD|PASSWD|SECRET|API_?KEY|ACCESS_?KEY|AUTH_?TOKEN|CLIENT_SECRET|TOKEN)"
            + _NOT_SECRET_SUFFIX
            # `X=v`, `X = v` (PowerShell), `x: v`; not `grep X= file` (a shell `X= ` is an empty value)
            + r"[A-Z0-9_]*(?:=|\s+=\s*|\s*:\s*)"
            + _VALUE
        ),
    ),
    (
        "a password or key argument",
        lambda: re.compile(
            r"(?i)(?:^|\s)(?:--password|--passwd|--pass|--secret|--token|--client-secret|-Password|-AccessToken"
            r"|--http-password|--ftp-password|--account-key|--sas-token|-StorageAccountKey|-SasToken)(?:\s+|=|:)"
            + _VALUE
        ),
    ),
    ("a password switch", lambda: re.compile(r"(?i)(?:^|\s)(?:/p:|/password:|/pass:)" + _VALUE)),
    (
        "a password after -p",
        lambda: re.compile(
            r"(?i)(?<![-\w])(?:mysql|mysqladmin|mysqldump|mariadb|docker\s+login|podman\s+login|helm\s+registry\s+login"
            r"|az\s+login|sqlcmd|smbclient|sshpass)\b[^\n]*?\s-[pP](?!ass|ort|rofile|ath|roxy)\s*" + _VALUE
        ),
    ),
    (
        "user:password credentials",
        lambda: re.compile(r"(?:\s-u\s+|\s--user[\s=]+|://)(?P<v>[^\s:/@'\"$]+:(?![$%])[^\s@'\"/]{3,})@?"),
    ),
    (
        "a plain-text SecureString",
        lambda: re.compile(
            r"(?i)ConvertTo-SecureString\s+(?:-(?!String\b)\w+\s+)*(?:-String\s+)?"
            r"""(?:'(?P<v>[^']{3,})'|"(?P<v2>[^"`]{3,})")"""
        ),
    ),
    (
        "a password given to chpasswd/passwd",
        lambda: re.compile(
            # single quotes keep `$`, `&` and `@` literal: 'root:P@ss&w$rd' is a password, "$PW" is not
            r"""(?i)(?:echo|printf)\s+(?:-[a-z]+\s+)*(?:'[^']*'\s+)?"""
            r"""(?:'(?P<v>[^']{3,})'|"(?P<v2>[^"`]{3,})"|(?P<v3>[^\s'"$|;]{3,}))"""
            r"\s*\|\s*(?:sudo\s+)?(?:/usr/sbin/)?(?:chpasswd|passwd\b)"
        ),
    ),
    (
        "a password in `net user`",
        lambda: re.compile(r"""(?i)\bnet\s+user\s+\S+\s+(?P<q>['"]?)(?P<v>(?![/*$%])[^\s'"]{3,})(?P=q)\s+/add"""),
    ),
    (
        "a password hashed inline by `openssl passwd`",
        lambda: re.compile(
            r"""(?i)\bopenssl\s+passwd\s+(?:-(?:salt|in)\s+\S+\s+|-\S+\s+)*"""
            r"""(?:'(?P<v>[^']{3,})'|"(?P<v2>[^"`]{3,})"|(?P<v3>(?![-$])[^\s'"$|;)]{3,}))"""
        ),
    ),
)


# Every pattern above needs one of these (lower-cased) fragments; a line without any is skipped at once.
_FRAGMENTS = (
    "pass",
    "pwd",
    "secret",
    "token",
    "key",
    "sig=",
    "bearer",
    "basic",
    "akia",
    "asia",
    "ghp_",
    "gho_",
    "ghu_",
    "ghs_",
    "ghr_",
    "github_pat",
    "xox",
    "eyj",
    "private",
    "://",
    "-u",
    "--user",
    "-p",
    "net user",
    "/p:",
    "==",
    "securestring",
    "openssl",
)


_FRAGMENT = re.compile("|".join(re.escape(f) for f in _FRAGMENTS))


# Per pattern, lower-case fragments of which at least one must occur for the pattern to match
# (a necessary condition, so results are the same); a pattern is compiled only when a line could
# match it. Compiling all of them costs ~15 ms, which a cold `aibtui compile` should not pay for
# a `-p` in an unrelated command.
_TRIGGERS: dict[str, tuple[str, ...]] = {
    "an openssl pass: argument": ("pass:",),
    "an Azure storage account key": ("==",),
    "a private key": ("private key",),
    "an AWS access key id": ("akia", "asia"),
    "a GitHub token": ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"),
    "a Slack token": ("xox",),
    "a JSON web token": ("eyj",),
    "a storage account key or connection string": ("accountkey", "sharedaccesskey", "sharedaccesssignature"),
    "a SAS token signature": ("sig=",),
    "a bearer token": ("bearer", "basic"),
    "a password in a connection string": ("password", "pwd"),
    "an AWS secret key": ("aws_secret_access_key",),
    "a secret assignment": ("passw", "secret", "key", "token"),
    "a password or key argument": ("--pass", "--secret", "--token", "--client-secret", "-password", "-accesstoken",
                                   "--account-key", "--sas-token", "-storageaccountkey", "-sastoken"),
    "a password switch": ("/p:", "/password:", "/pass:"),
    "a password after -p": ("-p",),
    "user:password credentials": ("-u", "--user", "://"),
    "a plain-text SecureString": ("convertto-securestring",),
    "a password given to chpasswd/passwd": ("passwd",),
    "a password in `net user`": ("user",),
    "a password hashed inline by `openssl passwd`": ("openssl",),
}


def _candidates(low: str) -> list[tuple[str, re.Pattern[str]]]:
    """The patterns (in priority order) whose trigger fragments occur in the lower-cased text."""
    out = []
    for index, (kind, triggers) in enumerate(_TRIGGERS.items()):
        if any(t in low for t in triggers):
            out.append((kind, _pattern(index)))
    return out


@functools.cache
def _pattern(index: int) -> re.Pattern[str]:
    return _SOURCES[index][1]()


@functools.lru_cache(maxsize=1024)
def maybe_secret(text: str) -> bool:
    """Cheap test: False means no pattern can match ``text`` (use it on a whole step's text first)."""
    return _FRAGMENT.search(text.lower()) is not None


@dataclass(frozen=True, slots=True)
class SecretHit:
    kind: str
    excerpt: str  # redacted


def redact(value: str) -> str:
    if len(value) <= 4:
        return "*" * len(value)
    return value[:2] + "*" * min(len(value) - 2, 8)


@functools.lru_cache(maxsize=4096)  # pure, and the same lines recur (profiles, recompiles in the TUI)
def find_secret(text: str) -> SecretHit | None:
    """The first secret-looking thing in ``text``, or None. Cheap pre-filter before the regexes."""
    if len(text) < 8:
        return None
    if not maybe_secret(text):
        return None
    low = text.lower()
    for kind, pattern in _candidates(low):
        for m in pattern.finditer(text):
            groups = m.groupdict()
            if groups.get("v2") and not _literal_enough(groups["v2"]):
                continue  # "bob:$PW", "$env:PW": expansions, no literal secret
            value = groups.get("v") or groups.get("v2") or groups.get("v3") or m.group(0)
            return SecretHit(kind, redact(value))
    return None


_EXPANSION = re.compile(r"\$(?:\{[^}]*\}|\([^)]*\)|env:\w+|[A-Za-z_]\w*|[$#?!@*0-9-])")


def _literal_enough(quoted: str) -> bool:
    """Inside double quotes the shell (or PowerShell) expands `$...`: what is left literal, after a
    `user:` prefix, must still look like a password (3 characters or more)."""
    literal = _EXPANSION.sub("", quoted)
    if ":" in literal and not literal.startswith(":"):
        literal = literal.split(":", 1)[1]
    return len(literal.strip()) >= 3
