"""A real OpenLDAP ``slapd`` for contract tests, with an Active-Directory-like schema.

Built the way an operator would: a ``cn=config`` directory made offline with ``slapadd -n0``
from an LDIF (Debian's core, cosine and inetorgperson schemas plus the AD attributes below),
the entries loaded offline with ``slapadd -n1``, then ``slapd`` started in the foreground on a
free loopback port and stopped at teardown. Needs Debian's ``slapd`` and ``ldap-utils``.

With ``tls=True`` it also listens for LDAPS and offers StartTLS, with a server certificate for
``localhost`` (and not for ``127.0.0.1``) issued by a throwaway CA (``Slapd.ca_file``); ``other_ca_file`` is a
CA that signed nothing, to show an untrusted certificate is refused.

Access control mirrors what the IdP gets from a real AD: a read-only service account that may
bind and read, anonymous users that may only bind (authenticate), and nothing writable.
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

LOOPBACK = "127.0.0.1"
SUFFIX = "dc=moc,dc=test"
PEOPLE_DN = f"ou=people,{SUFFIX}"
GROUPS_DN = f"ou=groups,{SUFFIX}"
SERVICE_DN = f"cn=idp-reader,ou=service,{SUFFIX}"
SERVICE_PASSWORD = "reader-" + secrets.token_hex(8)
SCHEMA_DIR = Path("/etc/ldap/schema")
MODULE_DIR = Path("/usr/lib/ldap")
SEARCH_PATH = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"])

# Microsoft's own OIDs for the AD attributes the IdP reads. OpenLDAP's msuser.schema has them
# without matching rules (so no equality or substring filters work); these add the rules AD has.
AD_SCHEMA_LDIF = """\
dn: cn=adlike,cn=schema,cn=config
objectClass: olcSchemaConfig
cn: adlike
olcAttributeTypes: ( 1.2.840.113556.1.4.221 NAME 'sAMAccountName' EQUALITY caseIgnoreMatch
  SUBSTR caseIgnoreSubstringsMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )
olcAttributeTypes: ( 1.2.840.113556.1.4.656 NAME 'userPrincipalName' EQUALITY caseIgnoreMatch
  SUBSTR caseIgnoreSubstringsMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )
olcAttributeTypes: ( 1.2.840.113556.1.4.35 NAME 'employeeID' EQUALITY caseIgnoreMatch
  SUBSTR caseIgnoreSubstringsMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )
olcAttributeTypes: ( 1.2.840.113556.1.4.8 NAME 'userAccountControl' EQUALITY integerMatch
  SYNTAX 1.3.6.1.4.1.1466.115.121.1.27 SINGLE-VALUE )
olcAttributeTypes: ( 1.2.840.113556.1.2.141 NAME 'department' EQUALITY caseIgnoreMatch
  SUBSTR caseIgnoreSubstringsMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )
olcAttributeTypes: ( 1.2.840.113556.1.2.102 NAME 'memberOf' EQUALITY distinguishedNameMatch
  SYNTAX 1.3.6.1.4.1.1466.115.121.1.12 )
olcObjectClasses: ( 1.2.840.113556.1.5.9 NAME 'user' SUP inetOrgPerson STRUCTURAL
  MAY ( sAMAccountName $ userPrincipalName $ employeeID $ userAccountControl $ department
  $ memberOf ) )
"""


def slapd_binaries() -> tuple[str, str] | None:
    """Paths of ``slapd`` and ``slapadd``, or None when they are not installed."""
    slapd, slapadd = shutil.which("slapd", path=SEARCH_PATH), shutil.which("slapadd", path=SEARCH_PATH)
    if slapd and slapadd and (SCHEMA_DIR / "inetorgperson.ldif").exists():
        return slapd, slapadd
    return None


def ssha(password: str) -> str:
    """An RFC 2307 ``{SSHA}`` userPassword value, as ``slappasswd`` makes."""
    salt = secrets.token_bytes(8)
    digest = hashlib.sha1(password.encode() + salt).digest()
    return "{SSHA}" + base64.b64encode(digest + salt).decode()


def config_ldif(directory: Path, tls: bool, size_limit: int) -> str:
    """The whole ``cn=config`` tree: schemas, one MDB database, read-only access control."""
    includes = "".join(f"include: file://{SCHEMA_DIR / name}.ldif\n\n"
                       for name in ("core", "cosine", "inetorgperson"))
    certificates = "".join(f"{key}: {directory / name}\n" for key, name in (
        ("olcTLSCACertificateFile", "ca.pem"), ("olcTLSCertificateFile", "server.pem"),
        ("olcTLSCertificateKeyFile", "server.key"))) if tls else ""
    return f"""\
dn: cn=config
objectClass: olcGlobal
cn: config
olcPidFile: {directory / 'slapd.pid'}
{certificates}
dn: cn=module{{0}},cn=config
objectClass: olcModuleList
cn: module{{0}}
olcModulePath: {MODULE_DIR}
olcModuleLoad: back_mdb

dn: cn=schema,cn=config
objectClass: olcSchemaConfig
cn: schema

{includes}{AD_SCHEMA_LDIF}
dn: olcDatabase={{-1}}frontend,cn=config
objectClass: olcDatabaseConfig
objectClass: olcFrontendConfig
olcDatabase: {{-1}}frontend
olcSizeLimit: {size_limit}

dn: olcDatabase={{0}}config,cn=config
objectClass: olcDatabaseConfig
olcDatabase: {{0}}config
olcAccess: {{0}}to * by * none

dn: olcDatabase={{1}}mdb,cn=config
objectClass: olcDatabaseConfig
objectClass: olcMdbConfig
olcDatabase: {{1}}mdb
olcSuffix: {SUFFIX}
olcDbDirectory: {directory / 'data'}
olcDbMaxSize: 16777216
olcDbIndex: objectClass eq
olcDbIndex: employeeID eq,sub
olcAccess: {{0}}to attrs=userPassword by anonymous auth by * none
olcAccess: {{1}}to * by dn.exact="{SERVICE_DN}" read by * none
"""


def base_entries_ldif() -> str:
    """The suffix, the people/groups/service OUs, and the read-only service account."""
    return f"""\
dn: {SUFFIX}
objectClass: dcObject
objectClass: organization
dc: moc
o: MOC test directory

dn: {PEOPLE_DN}
objectClass: organizationalUnit
ou: people

dn: {GROUPS_DN}
objectClass: organizationalUnit
ou: groups

dn: ou=service,{SUFFIX}
objectClass: organizationalUnit
ou: service

dn: {SERVICE_DN}
objectClass: person
cn: idp-reader
sn: reader
userPassword: {ssha(SERVICE_PASSWORD)}

"""


@dataclass
class Slapd:
    """A running ``slapd`` process listening on ``url`` (and ``ldaps_url`` with TLS)."""

    url: str
    process: subprocess.Popen
    directory: Path
    ldaps_url: str = ""
    ca_file: str = ""
    other_ca_file: str = ""

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return sock.getsockname()[1]


def write_certificates(directory: Path, hosts: tuple[str, ...] = ("localhost",)) -> None:
    """A CA, a server certificate it signed for ``hosts`` (localhost), and an unrelated CA."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.datetime.now(datetime.UTC)

    def certificate(subject, key, issuer, issuer_key, *, ca, names=()):
        builder = (x509.CertificateBuilder()
                   .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
                   .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
                   .public_key(key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(now - datetime.timedelta(hours=1))
                   .not_valid_after(now + datetime.timedelta(days=1))
                   .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
        if names:
            builder = builder.add_extension(x509.SubjectAlternativeName(list(names)), critical=False) \
                .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        return builder.sign(issuer_key, hashes.SHA256())

    def write(name, cert):
        (directory / name).write_bytes(cert.public_bytes(serialization.Encoding.PEM))

    ca_key, other_key, server_key = (ec.generate_private_key(ec.SECP256R1()) for _ in range(3))
    write("ca.pem", certificate("Test CA", ca_key, "Test CA", ca_key, ca=True))
    write("other-ca.pem", certificate("Other CA", other_key, "Other CA", other_key, ca=True))
    names = tuple(x509.DNSName(host) for host in hosts)  # not 127.0.0.1: by address is a mismatch
    write("server.pem", certificate(hosts[0], server_key, "Test CA", ca_key, ca=False, names=names))
    (directory / "server.key").write_bytes(server_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    (directory / "server.key").chmod(0o600)


def start_slapd(directory: Path, entries_ldif: str, *, tls: bool = False, size_limit: int = 500,
                timeout: float = 15.0) -> Slapd:
    """Build a config and a database under ``directory``, load the entries, start ``slapd``.

    ``size_limit`` is the server's own cap on entries per search (``olcSizeLimit``)."""
    found = slapd_binaries()
    if found is None:
        raise RuntimeError("slapd is not installed (Debian packages: slapd ldap-utils)")
    slapd, slapadd = found
    config_dir, data_dir = directory / "slapd.d", directory / "data"
    config_dir.mkdir(parents=True)
    data_dir.mkdir()
    if tls:
        write_certificates(directory)
    _slapadd(slapadd, ["-n0", "-F", str(config_dir)], config_ldif(directory, tls, size_limit),
             directory / "config.ldif")
    _slapadd(slapadd, ["-n1", "-F", str(config_dir)], base_entries_ldif() + entries_ldif,
             directory / "entries.ldif")
    for _attempt in range(3):  # the free port may be taken between choosing and binding it
        port, tls_port = free_port(), free_port()
        url, ldaps_url = f"ldap://{LOOPBACK}:{port}", f"ldaps://{LOOPBACK}:{tls_port}" if tls else ""
        listen = " ".join(u + "/" for u in (url, ldaps_url) if u)
        log = open(directory / "slapd.log", "ab")  # noqa: SIM115 - closed with the process
        process = subprocess.Popen([slapd, "-d", "0", "-h", listen, "-F", str(config_dir)],
                                   stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        log.close()
        server = Slapd(url, process, directory, ldaps_url=ldaps_url,
                       ca_file=str(directory / "ca.pem") if tls else "",
                       other_ca_file=str(directory / "other-ca.pem") if tls else "")
        if _wait_until_listening(server, port, timeout):
            return server
        server.stop()
    raise RuntimeError(f"slapd did not start; see {directory / 'slapd.log'}")


def _slapadd(slapadd: str, args: list[str], ldif: str, path: Path) -> None:
    path.write_text(ldif, encoding="utf-8")
    done = subprocess.run([slapadd, *args, "-l", str(path)], capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"slapadd {' '.join(args)} failed:\n{done.stdout}{done.stderr}")


def _wait_until_listening(server: Slapd, port: int, timeout: float) -> bool:
    """True once the service account can bind; False if slapd exited first."""
    import ldap3

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            return False
        try:
            connection = ldap3.Connection(
                ldap3.Server(LOOPBACK, port=port, get_info=ldap3.NONE, connect_timeout=1),
                SERVICE_DN, SERVICE_PASSWORD, receive_timeout=2)
            if connection.bind():
                connection.unbind()
                return True
        except ldap3.core.exceptions.LDAPException:
            pass
        time.sleep(0.05)
    return False
