"""Detached CMS signatures (CAdES-BES style, RFC 5652) of the legal files: the `.p7s` beside an AFD.

Signing streams: the file's SHA-256 is computed in 1 MiB chunks and only that digest enters the
signature (as the messageDigest signed attribute), so a 140 MB AFD signs in constant memory.
cryptography's PKCS7SignatureBuilder wants the whole content in memory, so the SignedData is built with
asn1crypto and only the DER of the signed attributes is signed with cryptography's key API:
RSA PKCS#1 v1.5 or ECDSA P-256, both with SHA-256.

Verification checks that the file matches the signature and that the signature was made with the key
of the certificate it carries. It does not judge that certificate (its chain to ICP-Brasil, its
validity period, its revocation): that is for whoever relies on the signer it reports.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from asn1crypto import cms, pem, tsp  # tsp also registers signing-certificate-v2 in cms
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes
from cryptography.x509.oid import NameOID

CHUNK = 1 << 20  # bytes read at a time while hashing a file
SIGNATURE_SUFFIX = ".p7s"
TEST_ORGANIZATION = "Ponto (test certificate)"

# The digests a signature made elsewhere may use (ours is always SHA-256).
_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}

type _PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


class SigningError(Exception):
    """A signature that cannot be made or does not verify. One line; never key material, never a path
    (an AFD's name holds the employer's CNPJ or CPF)."""


@dataclass(frozen=True)
class SigningIdentity:
    """A signing certificate and its private key, both PEM. The certificate file may carry the chain
    after the signer's certificate; every certificate in it goes into the signature."""

    certificate_pem: bytes
    private_key_pem: bytes

    @classmethod
    def from_files(cls, certificate: Path, key: Path) -> SigningIdentity:
        """Reads and checks the pair: both PEM, a supported key, and the key matching a certificate."""
        identity = cls(_read(certificate, "certificate"), _read(key, "private key"))
        _load(identity)
        return identity


@dataclass(frozen=True)
class SignatureInfo:
    signer: str  # the signer certificate's subject, RFC 4514 (last RDN first: "O=...,CN=...")
    signing_time: datetime | None  # the signingTime attribute, when the signature has one


def sign_file(path: Path, identity: SigningIdentity, *, signing_time: datetime | None = None) -> Path:
    """Signs `path` and writes the detached signature to `path` + ".p7s" (whole or not at all)."""
    signature = signature_path(path)
    der = sign_digest(file_sha256(path), identity, signing_time=signing_time)
    _write_atomically(signature, der, mode=0o644)
    return signature


def sign_digest(digest: bytes, identity: SigningIdentity, *, signing_time: datetime | None = None) -> bytes:
    """The DER of a detached CMS SignedData over content whose SHA-256 is `digest`."""
    if len(digest) != hashlib.sha256().digest_size:
        raise SigningError("a SHA-256 digest has 32 bytes")
    when = datetime.now(UTC) if signing_time is None else signing_time
    if when.utcoffset() is None:
        raise SigningError("the signing time needs a time zone")
    chain, key = _load(identity)
    signer = asn1_x509.Certificate.load(chain[0].public_bytes(serialization.Encoding.DER))

    signed_attrs = cms.CMSAttributes(
        [
            cms.CMSAttribute({"type": "content_type", "values": ["data"]}),
            cms.CMSAttribute({"type": "signing_time", "values": [_time(when.astimezone(UTC))]}),
            cms.CMSAttribute({"type": "message_digest", "values": [digest]}),
            # CAdES-BES binds the signer's certificate into what is signed (RFC 5035, ESSCertIDv2).
            cms.CMSAttribute({"type": "signing_certificate_v2", "values": [_signing_certificate(signer)]}),
        ]
    )
    to_sign = signed_attrs.dump()  # a SET OF, DER (asn1crypto sorts the members), as RFC 5652 5.4 asks
    if isinstance(key, rsa.RSAPrivateKey):
        signature = key.sign(to_sign, padding.PKCS1v15(), hashes.SHA256())
        algorithm = {"algorithm": "rsassa_pkcs1v15", "parameters": None}
    else:
        signature = key.sign(to_sign, ec.ECDSA(hashes.SHA256()))
        algorithm = {"algorithm": "sha256_ecdsa"}

    signer_info = cms.SignerInfo(
        {
            "version": "v1",
            "sid": cms.SignerIdentifier(
                {
                    "issuer_and_serial_number": cms.IssuerAndSerialNumber(
                        {"issuer": signer.issuer, "serial_number": signer.serial_number}
                    )
                }
            ),
            "digest_algorithm": {"algorithm": "sha256"},
            "signed_attrs": signed_attrs,
            "signature_algorithm": algorithm,
            "signature": signature,
        }
    )
    signed_data = cms.SignedData(
        {
            "version": "v1",
            "digest_algorithms": [{"algorithm": "sha256"}],
            "encap_content_info": {"content_type": "data"},  # no content: detached
            "certificates": [
                cms.CertificateChoices(
                    {"certificate": asn1_x509.Certificate.load(c.public_bytes(serialization.Encoding.DER))}
                )
                for c in chain
            ],
            "signer_infos": [signer_info],
        }
    )
    return bytes(cms.ContentInfo({"content_type": "signed_data", "content": signed_data}).dump())


def verify_file(path: Path, signature: Path | None = None) -> SignatureInfo:
    """Checks `path` against its detached signature (default: `path` + ".p7s") and names the signer."""
    try:
        data = (signature or signature_path(path)).read_bytes()
    except OSError as exc:
        raise SigningError(f"cannot read the signature: {exc.strerror or type(exc).__name__}") from None
    try:
        signed = _parse(data)
    except (ValueError, TypeError, KeyError) as exc:
        raise SigningError("the signature is not a CMS SignedData (DER or PEM)") from exc
    digest = file_sha256(path, signed.hash_name)
    if digest != signed.message_digest:
        raise SigningError("signature does not match the file")
    _check_signature(signed)
    return SignatureInfo(signer=signed.certificate.subject.rfc4514_string(), signing_time=signed.signing_time)


def self_signed_identity(common_name: str, *, days: int = 3650) -> SigningIdentity:
    """A fresh EC P-256 key and a self-signed certificate for it: for the local stack and tests, never
    for a real record (a REP-P's signatures need an ICP-Brasil certificate)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, TEST_ORGANIZATION),
        ]
    )
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))  # tolerate a verifier's clock a little behind
        .not_valid_after(now + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,  # nonRepudiation
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return SigningIdentity(
        certificate_pem=certificate.public_bytes(serialization.Encoding.PEM),
        private_key_pem=key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ),
    )


def write_identity(identity: SigningIdentity, certificate: Path, key: Path) -> None:
    """Writes the pair as PEM files; the key file readable by its owner only (0600)."""
    _write_atomically(key, identity.private_key_pem, mode=0o600)
    _write_atomically(certificate, identity.certificate_pem, mode=0o644)


def signature_path(path: Path) -> Path:
    """Where a file's detached signature lives: beside it, its name + ".p7s"."""
    return path.with_name(path.name + SIGNATURE_SUFFIX)


def file_sha256(path: Path, hash_name: str = "sha256") -> bytes:
    """A file's digest, read in CHUNK-sized pieces into one reused buffer (constant memory)."""
    digest = hashlib.new(hash_name)
    buffer = bytearray(CHUNK)
    view = memoryview(buffer)
    try:
        with path.open("rb", buffering=0) as stream:
            while size := stream.readinto(buffer):
                digest.update(view[:size])
    except OSError as exc:
        raise SigningError(f"cannot read the file: {exc.strerror or type(exc).__name__}") from None
    return digest.digest()


# -- loading the identity ---------------------------------------------------------------------------


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise SigningError(f"cannot read the {what} file: {exc.strerror or type(exc).__name__}") from None


def _load(identity: SigningIdentity) -> tuple[list[x509.Certificate], _PrivateKey]:
    """The certificates (the signer's first) and the private key, checked to belong together."""
    try:
        certificates = x509.load_pem_x509_certificates(identity.certificate_pem)
    except ValueError:
        raise SigningError("the certificate is not a PEM X.509 certificate") from None
    try:
        key = serialization.load_pem_private_key(identity.private_key_pem, password=None)
    except TypeError:  # encrypted, and no password given
        raise SigningError("the private key is encrypted; give it unencrypted (PEM)") from None
    except (ValueError, UnsupportedAlgorithm):
        raise SigningError("the private key is not a PEM private key") from None
    if isinstance(key, ec.EllipticCurvePrivateKey):
        if not isinstance(key.curve, ec.SECP256R1):
            raise SigningError(f"unsupported key: EC on {key.curve.name}; use RSA or EC P-256")
    elif not isinstance(key, rsa.RSAPrivateKey):
        raise SigningError(f"unsupported key type {type(key).__name__}; use RSA or EC P-256")
    public = _spki(key.public_key())
    for index, certificate in enumerate(certificates):
        if _spki(certificate.public_key()) == public:
            return [certificate, *certificates[:index], *certificates[index + 1 :]], key
    raise SigningError("the private key does not match the certificate")


def _spki(public_key: PublicKeyTypes) -> bytes:
    return bytes(public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo))


# -- building ---------------------------------------------------------------------------------------


def _time(when: datetime) -> cms.Time:
    # RFC 5652 11.3: UTCTime for 1950-2049, GeneralizedTime otherwise; whole seconds.
    when = when.replace(microsecond=0)
    return cms.Time({"utc_time" if 1950 <= when.year < 2050 else "generalized_time": when})


def _signing_certificate(signer: asn1_x509.Certificate) -> tsp.SigningCertificateV2:
    return tsp.SigningCertificateV2(
        {
            "certs": [
                {
                    "cert_hash": hashlib.sha256(signer.dump()).digest(),
                    "issuer_serial": {
                        "issuer": [asn1_x509.GeneralName({"directory_name": signer.issuer})],
                        "serial_number": signer.serial_number,
                    },
                }
            ]
        }
    )


def _write_atomically(target: Path, data: bytes, *, mode: int) -> None:
    """Writes `target` through a temporary file beside it, so it appears whole or not at all."""
    try:
        descriptor, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    except OSError as exc:
        raise SigningError(f"cannot write beside the file: {exc.strerror or type(exc).__name__}") from None
    try:
        with os.fdopen(descriptor, "wb") as stream:
            os.fchmod(stream.fileno(), mode)  # mkstemp makes 0600; the key keeps it
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, target)
    except OSError as exc:
        Path(temporary).unlink(missing_ok=True)
        raise SigningError(f"cannot write the file: {exc.strerror or type(exc).__name__}") from None


# -- verifying --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Signed:
    """What verification needs from a parsed SignedData with one signer."""

    hash_name: str
    message_digest: bytes
    signing_time: datetime | None
    signed_attrs_der: bytes
    signature_algorithm: str  # asn1crypto's family name: "rsassa_pkcs1v15", "ecdsa", ...
    signature: bytes
    certificate: x509.Certificate


def _parse(data: bytes) -> _Signed:
    """Raises ValueError (or TypeError/KeyError from asn1crypto's lazy parsing) on a malformed one."""
    if pem.detect(data):
        _, _, data = pem.unarmor(data)
    content_info = cms.ContentInfo.load(data)
    if content_info["content_type"].native != "signed_data":
        raise ValueError("not a SignedData")
    signed_data = content_info["content"]
    if signed_data["encap_content_info"]["content"].native is not None:
        raise SigningError("the signature is not detached (it carries its content)")
    signer_infos = signed_data["signer_infos"]
    if len(signer_infos) != 1:
        raise SigningError(f"the signature has {len(signer_infos)} signers; expected one")
    signer_info = signer_infos[0]
    hash_name = signer_info["digest_algorithm"]["algorithm"].native
    if hash_name not in _HASHES:
        raise SigningError(f"unsupported digest algorithm {hash_name}")
    signed_attrs = signer_info["signed_attrs"]
    if not signed_attrs.native:
        raise SigningError("the signature has no signed attributes")
    attributes = {attribute["type"].native: attribute["values"] for attribute in signed_attrs}
    if "message_digest" not in attributes or "content_type" not in attributes:
        raise SigningError("the signature lacks its messageDigest or contentType attribute")
    if attributes["content_type"][0].native != signed_data["encap_content_info"]["content_type"].native:
        raise SigningError("the signature's contentType attribute does not match its content type")
    signing_time = attributes["signing_time"][0].native if "signing_time" in attributes else None
    # Signed over the attributes' SET OF encoding, not the [0] IMPLICIT tag they travel under.
    signed_attrs_der = b"\x31" + signed_attrs.dump()[1:]
    return _Signed(
        hash_name=hash_name,
        message_digest=attributes["message_digest"][0].native,
        signing_time=signing_time,
        signed_attrs_der=signed_attrs_der,
        signature_algorithm=signer_info["signature_algorithm"].signature_algo,
        signature=signer_info["signature"].native,
        certificate=_signer_certificate(signed_data, signer_info["sid"]),
    )


def _signer_certificate(signed_data: cms.SignedData, sid: cms.SignerIdentifier) -> x509.Certificate:
    for choice in signed_data["certificates"] or []:
        if choice.name != "certificate":
            continue
        candidate = choice.chosen
        if sid.name == "issuer_and_serial_number":
            found = (
                candidate.issuer == sid.chosen["issuer"]
                and candidate.serial_number == sid.chosen["serial_number"].native
            )
        else:
            found = candidate.key_identifier == sid.chosen.native
        if found:
            return x509.load_der_x509_certificate(candidate.dump())
    raise SigningError("the signer's certificate is not in the signature")


def _check_signature(signed: _Signed) -> None:
    public_key = signed.certificate.public_key()
    algorithm = _HASHES[signed.hash_name]()
    try:
        if signed.signature_algorithm == "rsassa_pkcs1v15" and isinstance(public_key, rsa.RSAPublicKey):
            public_key.verify(signed.signature, signed.signed_attrs_der, padding.PKCS1v15(), algorithm)
        elif signed.signature_algorithm == "ecdsa" and isinstance(public_key, ec.EllipticCurvePublicKey):
            public_key.verify(signed.signature, signed.signed_attrs_der, ec.ECDSA(algorithm))
        else:
            raise SigningError(f"unsupported signature algorithm {signed.signature_algorithm}")
    except InvalidSignature:
        raise SigningError("the signature was not made with its certificate's key") from None
