"""C-05: the lazy, trigger-gated secret patterns find exactly what trying every pattern finds."""

from __future__ import annotations

import random

from aibtui.compiler.rules import secrets

SAMPLES = [
    "openssl enc -passin pass:hunter22", "x" * 86 + "==", "-----BEGIN RSA PRIVATE KEY-----",
    "AKIAABCDEFGHIJKLMNOP", "ghp_" + "a" * 36, "github_pat_" + "b" * 22, "xoxb-1234567890-abc",
    "eyJhbGciOiJIUzI1.eyJzdWIiOiIxMjM0.sig", "DefaultEndpointsProtocol=https;AccountKey=abcdefghijkl",
    "https://a.blob.core.windows.net/c?sv=1&sig=abcdefghijklmnop1234",
    "curl -H 'Authorization: Bearer abcdefghijklmnop123'",
    "Server=x;Password=hunter22;", "aws_secret_access_key = abcdefghij", "export DB_PASSWORD=hunter22",
    "API_KEY: s3cr3tvalue", "app --client-secret s3cr3tvalue", "cmd /p:hunter22", "mysql -u root -phunter22 db",
    "git clone https://user:hunter22@example.com/r.git", "curl -u admin:hunter22 x",
    "ConvertTo-SecureString 'hunter22' -AsPlainText", "echo 'root:hunter22' | sudo chpasswd",
    "net user bob hunter22 /add", "echo hello", "sudo apt-get install -y nginx", "TOKEN_URL=https://x",
    "docker login -u me -p s3cr3t", "Set-Item -Path x -Value $env:PASSWORD", "--password=$PW",
]


def brute(text: str) -> secrets.SecretHit | None:
    if len(text) < 8 or not secrets.maybe_secret(text):
        return None
    for index, (kind, _make) in enumerate(secrets._SOURCES):
        m = secrets._pattern(index).search(text)
        if m:
            return secrets.SecretHit(kind, secrets.redact(m.groupdict().get("v") or m.group(0)))
    return None


def test_triggers_are_necessary_conditions():
    rng = random.Random(7)
    texts = list(SAMPLES)
    for _ in range(3000):
        a, b = rng.sample(SAMPLES, 2)
        cut = rng.randint(0, len(a))
        mixed = a[:cut] + rng.choice([" ", "", "\t", ";", "'"]) + b[rng.randint(0, len(b)):]
        texts.append(mixed.upper() if rng.random() < 0.1 else mixed)
    for text in texts:
        assert secrets.find_secret(text) == brute(text), text


def test_every_pattern_has_triggers():
    assert [kind for kind, _ in secrets._SOURCES] == list(secrets._TRIGGERS)
