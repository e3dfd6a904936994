"""Detached CMS signatures: sign and verify files, refuse what does not match, interoperate with OpenSSL
and with cryptography's own PKCS#7 builder."""

import hashlib
import shutil
import stat
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from asn1crypto import cms
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography.x509.oid import NameOID

from ponto.record import signing
from ponto.record.signing import SigningError, SigningIdentity

WHEN = datetime(2026, 3, 14, 12, 30, 5, tzinfo=UTC)


def _identity(key: CertificateIssuerPrivateKeyTypes, common_name: str) -> SigningIdentity:
    """A self-signed certificate for any key (self_signed_identity only makes EC P-256 ones)."""
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .sign(key, None if isinstance(key, ed25519.Ed25519PrivateKey) else hashes.SHA256())
    )
    return SigningIdentity(
        certificate.public_bytes(serialization.Encoding.PEM),
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()),
    )


@pytest.fixture(scope="module")
def ec_identity() -> SigningIdentity:
    return signing.self_signed_identity("Ponto EC signer")


@pytest.fixture(scope="module")
def other_identity() -> SigningIdentity:
    return signing.self_signed_identity("Someone else")


@pytest.fixture(scope="module")
def rsa_identity() -> SigningIdentity:
    return _identity(rsa.generate_private_key(public_exponent=65537, key_size=2048), "Ponto RSA signer")


@pytest.fixture(params=["ec", "rsa"])
def identity(
    request: pytest.FixtureRequest, ec_identity: SigningIdentity, rsa_identity: SigningIdentity
) -> SigningIdentity:
    return ec_identity if request.param == "ec" else rsa_identity


@pytest.fixture
def afd(tmp_path: Path) -> Path:
    path = tmp_path / "AFD12345678901234567112223330001 81REP_P.txt"
    path.write_bytes(b"000000001" + b"7" * 128 + b"\r\n")
    return path


def _subject(identity: SigningIdentity) -> str:
    return x509.load_pem_x509_certificate(identity.certificate_pem).subject.rfc4514_string()


def test_sign_then_verify(afd: Path, identity: SigningIdentity) -> None:
    signature = signing.sign_file(afd, identity, signing_time=WHEN)

    assert signature == afd.with_name(afd.name + ".p7s")
    assert signature.is_file()
    assert [p.name for p in afd.parent.iterdir() if p != afd and p != signature] == []  # no temporary left
    info = signing.verify_file(afd)
    assert info == signing.SignatureInfo(signer=_subject(identity), signing_time=WHEN)


def test_the_test_certificate_names_its_signer(afd: Path, ec_identity: SigningIdentity) -> None:
    signing.sign_file(afd, ec_identity)

    info = signing.verify_file(afd)

    assert info.signer == "O=Ponto (test certificate),CN=Ponto EC signer"
    assert info.signing_time is not None
    assert abs(info.signing_time - datetime.now(UTC)) < timedelta(minutes=1)


def test_a_multi_mib_file(tmp_path: Path, ec_identity: SigningIdentity) -> None:
    path = tmp_path / "big.txt"
    line = b"".join(b"%09d7%0127d\r\n" % (n, n) for n in range(1000))
    with path.open("wb") as stream:
        for _ in range(26):  # about 3.6 MB: several chunks and a partial last one
            stream.write(line)
    assert path.stat().st_size % signing.CHUNK != 0

    signing.sign_file(path, ec_identity, signing_time=WHEN)

    assert signing.verify_file(path).signing_time == WHEN
    assert signing.file_sha256(path) == hashlib.sha256(path.read_bytes()).digest()


def test_sign_digest_of_a_streamed_file(afd: Path, identity: SigningIdentity) -> None:
    der = signing.sign_digest(hashlib.sha256(afd.read_bytes()).digest(), identity, signing_time=WHEN)
    signature = afd.with_name("elsewhere.p7s")
    signature.write_bytes(der)

    assert signing.verify_file(afd, signature).signer == _subject(identity)


def test_a_signing_time_after_2049_round_trips(afd: Path, ec_identity: SigningIdentity) -> None:
    later = datetime(2051, 1, 2, 3, 4, 5, tzinfo=UTC)
    signing.sign_file(afd, ec_identity, signing_time=later)

    assert signing.verify_file(afd).signing_time == later


def test_a_tampered_file_fails(afd: Path, identity: SigningIdentity) -> None:
    signing.sign_file(afd, identity)
    afd.write_bytes(afd.read_bytes().replace(b"7", b"8", 1))

    with pytest.raises(SigningError, match=r"^signature does not match the file$"):
        signing.verify_file(afd)


def test_a_signature_for_another_file_fails(afd: Path, ec_identity: SigningIdentity) -> None:
    other = afd.with_name("other.txt")
    other.write_bytes(b"something else\r\n")
    signature = signing.sign_file(other, ec_identity)

    with pytest.raises(SigningError, match="does not match the file"):
        signing.verify_file(afd, signature)


def test_a_signature_not_made_with_the_certificates_key_fails(
    afd: Path, ec_identity: SigningIdentity, other_identity: SigningIdentity
) -> None:
    # Given a signature whose signature value was made by another key over the same attributes
    digest = hashlib.sha256(afd.read_bytes()).digest()
    forged = cms.ContentInfo.load(signing.sign_digest(digest, ec_identity, signing_time=WHEN))
    theirs = cms.ContentInfo.load(signing.sign_digest(digest, other_identity, signing_time=WHEN))
    forged["content"]["signer_infos"][0]["signature"] = theirs["content"]["signer_infos"][0]["signature"].native
    signature = afd.with_name(afd.name + ".p7s")
    signature.write_bytes(forged.dump(force=True))

    # Then the digest matches but the signature does not verify
    with pytest.raises(SigningError, match="not made with its certificate's key"):
        signing.verify_file(afd)


def test_missing_or_garbled_signatures(afd: Path) -> None:
    with pytest.raises(SigningError, match="cannot read the signature"):
        signing.verify_file(afd)
    afd.with_name(afd.name + ".p7s").write_bytes(b"\x30\x03\x02\x01\x01 not CMS")
    with pytest.raises(SigningError, match="not a CMS SignedData"):
        signing.verify_file(afd)


def test_from_files_reads_a_matching_pair(tmp_path: Path, identity: SigningIdentity) -> None:
    certificate, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    signing.write_identity(identity, certificate, key)

    assert SigningIdentity.from_files(certificate, key) == identity
    assert stat.S_IMODE(key.stat().st_mode) == 0o600


def test_write_identity_narrows_an_existing_key_file(tmp_path: Path, ec_identity: SigningIdentity) -> None:
    certificate, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    key.write_bytes(b"old")
    key.chmod(0o644)

    signing.write_identity(ec_identity, certificate, key)

    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert key.read_bytes() == ec_identity.private_key_pem


def test_from_files_refuses_a_key_of_another_certificate(
    tmp_path: Path, ec_identity: SigningIdentity, rsa_identity: SigningIdentity, other_identity: SigningIdentity
) -> None:
    certificate, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    for cert_of, key_of in ((ec_identity, other_identity), (ec_identity, rsa_identity), (rsa_identity, ec_identity)):
        certificate.write_bytes(cert_of.certificate_pem)
        key.write_bytes(key_of.private_key_pem)
        with pytest.raises(SigningError, match=r"^the private key does not match the certificate$") as caught:
            SigningIdentity.from_files(certificate, key)
        assert "PRIVATE" not in str(caught.value)


@pytest.mark.parametrize(
    ("certificate_pem", "key_pem", "reason"),
    [
        (b"not a certificate", None, "the certificate is not a PEM X.509 certificate"),
        (None, b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", "not a PEM private key"),
        (None, b"", "not a PEM private key"),
    ],
)
def test_from_files_refuses_what_is_not_pem(
    tmp_path: Path, ec_identity: SigningIdentity, certificate_pem: bytes | None, key_pem: bytes | None, reason: str
) -> None:
    certificate, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    certificate.write_bytes(certificate_pem or ec_identity.certificate_pem)
    key.write_bytes(key_pem if key_pem is not None else ec_identity.private_key_pem)

    with pytest.raises(SigningError, match=reason):
        SigningIdentity.from_files(certificate, key)


def test_from_files_refuses_unreadable_files_and_encrypted_or_unsupported_keys(
    tmp_path: Path, ec_identity: SigningIdentity
) -> None:
    certificate, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    certificate.write_bytes(ec_identity.certificate_pem)
    with pytest.raises(SigningError, match=r"^cannot read the private key file: "):
        SigningIdentity.from_files(certificate, key)

    private = serialization.load_pem_private_key(ec_identity.private_key_pem, password=None)
    key.write_bytes(
        private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"secret"),
        )
    )
    with pytest.raises(SigningError, match="encrypted"):
        SigningIdentity.from_files(certificate, key)

    for unsupported, reason in (
        (_identity(ed25519.Ed25519PrivateKey.generate(), "Ed"), "unsupported key type Ed25519PrivateKey"),
        (_identity(ec.generate_private_key(ec.SECP384R1()), "P-384"), "unsupported key: EC on secp384r1"),
    ):
        signing.write_identity(unsupported, certificate, key)
        with pytest.raises(SigningError, match=reason):
            SigningIdentity.from_files(certificate, key)


def test_sign_digest_checks_its_inputs(ec_identity: SigningIdentity, other_identity: SigningIdentity) -> None:
    digest = hashlib.sha256(b"x").digest()
    with pytest.raises(SigningError, match="32 bytes"):
        signing.sign_digest(hashlib.sha1(b"x").digest(), ec_identity)
    with pytest.raises(SigningError, match="time zone"):
        signing.sign_digest(digest, ec_identity, signing_time=datetime(2026, 1, 1))
    # An identity built by hand (from Secrets Manager) is checked when it signs
    mismatched = SigningIdentity(ec_identity.certificate_pem, other_identity.private_key_pem)
    with pytest.raises(SigningError, match="does not match"):
        signing.sign_digest(digest, mismatched)


def test_the_signer_is_found_in_a_certificate_chain(afd: Path, ec_identity: SigningIdentity) -> None:
    # Given a certificate file that carries another certificate before the signer's
    other = signing.self_signed_identity("Intermediate")
    chained = SigningIdentity(other.certificate_pem + ec_identity.certificate_pem, ec_identity.private_key_pem)

    signing.sign_file(afd, chained)

    signed = cms.ContentInfo.load(afd.with_name(afd.name + ".p7s").read_bytes())["content"]
    assert len(signed["certificates"]) == 2
    assert signing.verify_file(afd).signer == _subject(ec_identity)


@pytest.mark.parametrize("detached", [True, False])
def test_a_signature_made_by_cryptography_verifies(afd: Path, identity: SigningIdentity, detached: bool) -> None:
    certificate = x509.load_pem_x509_certificate(identity.certificate_pem)
    key = serialization.load_pem_private_key(identity.private_key_pem, password=None)
    assert isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey)
    options = [pkcs7.PKCS7Options.DetachedSignature] if detached else []
    der = (
        pkcs7.PKCS7SignatureBuilder()
        .set_data(afd.read_bytes())
        .add_signer(certificate, key, hashes.SHA256())
        .sign(serialization.Encoding.DER, options)
    )
    afd.with_name(afd.name + ".p7s").write_bytes(der)

    if detached:
        info = signing.verify_file(afd)
        assert info.signer == _subject(identity)
        assert info.signing_time is not None
    else:
        with pytest.raises(SigningError, match="not detached"):
            signing.verify_file(afd)


@pytest.mark.skipif(shutil.which("openssl") is None, reason="the openssl binary is not installed")
def test_openssl_interoperates(tmp_path: Path, afd: Path, identity: SigningIdentity) -> None:
    certificate, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    signing.write_identity(identity, certificate, key)
    signature = signing.sign_file(afd, identity)

    def openssl(*args: str | Path) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(["openssl", *map(str, args)], capture_output=True, check=False, timeout=30)

    def verify(content: Path, *options: str | Path) -> int:
        args = ("cms", "-verify", "-binary", "-inform", "DER", "-in", signature, "-content", content)
        return openssl(*args, "-out", tmp_path / "out", *options).returncode

    # OpenSSL verifies ours: the signature alone, and with the self-signed certificate as the trust anchor
    assert verify(afd, "-noverify") == 0
    assert verify(afd, "-CAfile", certificate) == 0
    # ... and refuses it for another content
    other = tmp_path / "other.txt"
    other.write_bytes(b"not the AFD\r\n")
    assert verify(other, "-noverify") != 0

    # Ours verifies OpenSSL's (its default detached signature, with its own signed attributes)
    signature.unlink()
    sign = ("cms", "-sign", "-binary", "-outform", "DER", "-md", "sha256", "-in", afd)
    made = openssl(*sign, "-signer", certificate, "-inkey", key, "-out", signature)
    assert made.returncode == 0, made.stderr.decode()
    assert signing.verify_file(afd).signer == _subject(identity)
