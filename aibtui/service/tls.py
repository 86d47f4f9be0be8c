"""HTTPS for the local service: a self-signed CA and a server certificate for 127.0.0.1/localhost.

Made with ``cryptography`` on the first start and kept in ``<state>/tls/`` (directory 0700, the
server key 0600; the CA's key is discarded once it has signed); later starts reuse them while the
server certificate has more than a week to live. Clients verify the server against ``tls/ca.pem``
(``REQUESTS_CA_BUNDLE``, ``connection_verify=``, ``ssl.create_default_context(cafile=...)``):
normal TLS checks, no ``verify=False``.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

from ..localstate import CA_FILE, TLS_DIR

SERVER_CERT = "server.pem"
SERVER_KEY = "server.key"
RENEW_BEFORE = dt.timedelta(days=7)


@dataclass(frozen=True)
class TlsFiles:
    ca_file: Path
    cert_file: Path
    key_file: Path


def _write(path: Path, data: bytes, mode: int) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def _still_valid(cert_file: Path, ca_file: Path, key_file: Path) -> bool:
    from cryptography import x509

    try:
        cert = x509.load_pem_x509_certificate(cert_file.read_bytes())
        ca = x509.load_pem_x509_certificate(ca_file.read_bytes())
        if not key_file.is_file():
            return False
    except (OSError, ValueError):
        return False
    now = dt.datetime.now(dt.UTC)
    return cert.issuer == ca.subject and cert.not_valid_after_utc - now > RENEW_BEFORE


def ensure_tls(state: Path) -> TlsFiles:
    """The CA and server certificate in ``state/tls``, made now if missing, broken or about to expire."""
    folder = Path(state) / TLS_DIR
    folder.mkdir(mode=0o700, exist_ok=True)
    os.chmod(folder, 0o700)
    files = TlsFiles(folder / CA_FILE, folder / SERVER_CERT, folder / SERVER_KEY)
    if _still_valid(files.cert_file, files.ca_file, files.key_file):
        return files
    _make(folder, files)
    return files


def _make(folder: Path, files: TlsFiles) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "aibtui local service CA"),
                         x509.NameAttribute(NameOID.ORGANIZATION_NAME, "aibtui (local, self-signed)")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now).not_valid_after(now + dt.timedelta(days=3650))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                       content_commitment=False, key_encipherment=False, data_encipherment=False,
                                       key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now).not_valid_after(now + dt.timedelta(days=825))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                                                        x509.DNSName("localhost")]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    pem = serialization.Encoding.PEM
    priv = serialization.PrivateFormat.PKCS8
    none = serialization.NoEncryption()
    # the CA's key is not kept: it signed this one certificate; a renewal makes a new CA (and clients
    # re-read caFile), so a stolen state folder cannot mint certificates for other names
    (folder / "ca.key").unlink(missing_ok=True)
    _write(files.key_file, key.private_bytes(pem, priv, none), 0o600)
    _write(files.cert_file, cert.public_bytes(pem), 0o644)
    _write(files.ca_file, ca.public_bytes(pem), 0o644)
