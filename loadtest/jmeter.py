"""Finding JMeter and running the plan, including the compat launch for Debian's JMeter 2.13.

Flavours:
- JMeter >= 3 (JMETER_BIN, JMETER_HOME/bin/jmeter, or a `jmeter` on PATH that is one): run as is.
- Debian's `jmeter` package (2.13, home /usr/share/jmeter): its XStream allow-list rejects every plan
  on a current Java ("ForbiddenClassException ... ScriptWrapper"). We compile a permissive
  SecurityMapper (loadtest/compat/SecurityMapper.java) once with `javac --release 8` against the
  system xstream.jar and start JMeter's NewDriver with it first on the classpath.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from loadtest.results import HEADERLESS_FIELDS

HERE = Path(__file__).resolve().parent
PLAN = HERE / "punches.jmx"
COMPAT_SOURCE = HERE / "compat" / "SecurityMapper.java"
DEFAULT_CACHE = HERE / ".cache"

DEBIAN_HOME = Path("/usr/share/jmeter")
DEBIAN_XSTREAM = Path("/usr/share/java/xstream.jar")

INSTALL_HINT = (
    "JMeter is not installed. On Debian/Ubuntu: `apt-get install jmeter jmeter-http default-jdk-headless`; "
    "or unpack JMeter 5.x and set JMETER_HOME (or JMETER_BIN to its bin/jmeter)."
)

# Results as CSV with a header, the fields results.py reads, and the request start as timeStamp.
JTL_PROPERTIES: Mapping[str, str] = {
    "jmeter.save.saveservice.output_format": "csv",
    "jmeter.save.saveservice.print_field_names": "true",
    "jmeter.save.saveservice.timestamp_format": "ms",
    "jmeter.save.saveservice.default_delimiter": ",",
    "jmeter.save.saveservice.time": "true",
    "jmeter.save.saveservice.label": "true",
    "jmeter.save.saveservice.response_code": "true",
    "jmeter.save.saveservice.response_message": "true",
    "jmeter.save.saveservice.thread_name": "true",
    "jmeter.save.saveservice.data_type": "false",
    "jmeter.save.saveservice.successful": "true",
    "jmeter.save.saveservice.assertion_results_failure_message": "true",
    "jmeter.save.saveservice.bytes": "true",
    "jmeter.save.saveservice.sent_bytes": "false",
    "jmeter.save.saveservice.thread_counts": "true",
    "jmeter.save.saveservice.url": "false",
    "jmeter.save.saveservice.filename": "false",
    "jmeter.save.saveservice.latency": "true",
    "jmeter.save.saveservice.connect_time": "true",
    "jmeter.save.saveservice.encoding": "false",
    "jmeter.save.saveservice.sample_count": "false",
    "jmeter.save.saveservice.hostname": "false",
    "jmeter.save.saveservice.idle_time": "false",
    "jmeter.save.saveservice.subresults": "false",
    "jmeter.save.saveservice.response_data.on_error": "false",
    "sampleresult.timestamp.start": "true",
    # Non-GUI runs otherwise listen on 4445 for shutdown messages; concurrent runs would collide.
    "jmeterengine.nongui.port": "0",
    "summariser.interval": "10",
}
assert len(HEADERLESS_FIELDS) == 13  # keep in step with the fields enabled above


class JMeterError(RuntimeError):
    """JMeter is missing or cannot be started."""


@dataclass(frozen=True)
class JMeter:
    """How to start JMeter here: `argv` is everything before the plan arguments."""

    version: str
    argv: tuple[str, ...]
    compat: bool

    @property
    def major(self) -> int:
        return version_major(self.version)


def version_major(version: str) -> int:
    match = re.match(r"\s*(\d+)", version)
    return int(match.group(1)) if match else 0


def jar_version(jar: Path) -> str | None:
    """Implementation-Version from ApacheJMeter.jar's manifest (e.g. "2.13.19691222", "5.6.3")."""
    try:
        with zipfile.ZipFile(jar) as archive:
            manifest = archive.read("META-INF/MANIFEST.MF").decode("utf-8", "replace")
    except (OSError, KeyError, zipfile.BadZipFile):
        return None
    match = re.search(r"^Implementation-Version:\s*(\S+)", manifest, re.MULTILINE)
    return match.group(1) if match else None


def manifest_class_path(jar: Path) -> list[str]:
    """The Class-Path entries of a jar's manifest (continuation lines joined)."""
    try:
        with zipfile.ZipFile(jar) as archive:
            manifest = archive.read("META-INF/MANIFEST.MF").decode("utf-8", "replace")
    except (OSError, KeyError, zipfile.BadZipFile):
        return []
    unfolded = re.sub(r"\r?\n ", "", manifest)
    match = re.search(r"^Class-Path:\s*(.*)$", unfolded, re.MULTILINE)
    return match.group(1).split() if match else []


def _home_of_script(script: Path) -> Path | None:
    """JMeter's home for a launcher script: beside ApacheJMeter.jar, or named by -Djmeter.home."""
    resolved = script.resolve()
    if (resolved.parent / "ApacheJMeter.jar").exists():
        return resolved.parent.parent
    try:
        text = resolved.read_text(errors="replace")[:20000]
    except OSError:
        return None
    match = re.search(r"-Djmeter\.home=(\S+)", text)
    return Path(match.group(1).strip("\"'")) if match else None


def find_jmeter(env: Mapping[str, str] | None = None, cache_dir: Path = DEFAULT_CACHE) -> JMeter:
    """The JMeter to use, compiling the 2.13 compat class into cache_dir when it is Debian's 2.13."""
    env = os.environ if env is None else env
    script: Path | None = None
    home: Path | None = None
    if env.get("JMETER_BIN"):
        script = Path(env["JMETER_BIN"])
        if not script.exists():
            raise JMeterError(f"JMETER_BIN={script} does not exist")
        home = _home_of_script(script)
    elif env.get("JMETER_HOME"):
        home = Path(env["JMETER_HOME"])
        script = home / "bin" / "jmeter"
        if not script.exists():
            raise JMeterError(f"JMETER_HOME={home} has no bin/jmeter")
    else:
        found = shutil.which("jmeter", path=env.get("PATH"))
        if found:
            script = Path(found)
            home = _home_of_script(script)
        elif (DEBIAN_HOME / "bin" / "ApacheJMeter.jar").exists():
            home = DEBIAN_HOME
    if home is None and script is None:
        raise JMeterError(INSTALL_HINT)

    jar = home / "bin" / "ApacheJMeter.jar" if home else None
    version = (jar_version(jar) if jar else None) or "unknown"
    if jar is not None and jar.exists() and version_major(version) == 2:
        return compat_jmeter(home or DEBIAN_HOME, jar, version, cache_dir, env)
    if script is None:
        raise JMeterError(f"no bin/jmeter launcher for JMeter {version} in {home}")
    return JMeter(version=version, argv=(str(script),), compat=False)


def _java(env: Mapping[str, str], tool: str) -> str:
    java_home = env.get("JAVA_HOME")
    if java_home and (Path(java_home) / "bin" / tool).exists():
        return str(Path(java_home) / "bin" / tool)
    found = shutil.which(tool, path=env.get("PATH"))
    if not found:
        package = "default-jdk-headless" if tool == "javac" else "default-jre-headless"
        raise JMeterError(f"`{tool}` not found: the JMeter 2.13 compat launch needs it (apt-get install {package})")
    return found


def compile_compat(xstream_jar: Path, cache_dir: Path, env: Mapping[str, str]) -> Path:
    """Compile the permissive SecurityMapper once; returns the classes directory for -cp."""
    if not xstream_jar.exists():
        raise JMeterError(f"{xstream_jar} not found: the JMeter 2.13 compat launch compiles against it")
    source = COMPAT_SOURCE.read_bytes()
    stat = xstream_jar.stat()
    key = hashlib.sha256(source + f"{xstream_jar}:{stat.st_size}:{stat.st_mtime_ns}".encode()).hexdigest()[:16]
    classes = cache_dir / f"xstream-compat-{key}"
    marker = classes / "com" / "thoughtworks" / "xstream" / "mapper" / "SecurityMapper.class"
    if marker.exists():
        return classes
    staging = cache_dir / f".staging-{key}-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    command = [
        _java(env, "javac"),
        "--release",
        "8",
        "-nowarn",
        "-cp",
        str(xstream_jar),
        "-d",
        str(staging),
        str(COMPAT_SOURCE),
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        shutil.rmtree(staging, ignore_errors=True)
        raise JMeterError(f"compiling {COMPAT_SOURCE.name} failed:\n{result.stdout}{result.stderr}")
    try:
        staging.rename(classes)
    except OSError:  # another run won the race
        shutil.rmtree(staging, ignore_errors=True)
    return classes


def compat_jmeter(home: Path, jar: Path, version: str, cache_dir: Path, env: Mapping[str, str]) -> JMeter:
    xstream = next(
        (Path(entry) for entry in manifest_class_path(jar) if Path(entry).name.startswith("xstream")),
        DEBIAN_XSTREAM,
    )
    classes = compile_compat(xstream, cache_dir, env)
    argv = (
        _java(env, "java"),
        "-cp",
        os.pathsep.join([str(classes), str(jar)]),
        f"-Djmeter.home={home}",
        "org.apache.jmeter.NewDriver",
    )
    return JMeter(version=version, argv=argv, compat=True)


def plan_command(
    jmeter: JMeter,
    *,
    plan: Path,
    jtl: Path,
    log: Path,
    properties: Mapping[str, str],
    property_file: Path | None = None,
) -> list[str]:
    """The full non-GUI command line: the plan, results file, log, and -J properties.

    property_file (JMeter's -q) carries values that should not show in the process list (the API key).
    """
    command = [*jmeter.argv, "-n", "-t", str(plan), "-l", str(jtl), "-j", str(log)]
    if property_file is not None:
        command.extend(["-q", str(property_file)])
    merged = {**JTL_PROPERTIES, **properties}
    command.extend(f"-J{name}={value}" for name, value in merged.items())
    return command


def properties_text(values: Mapping[str, str]) -> str:
    """A java.util.Properties file for values (escaped; ASCII via \\uXXXX)."""
    lines = []
    for name, value in values.items():
        escaped = []
        for index, char in enumerate(value):
            if char in "\\:=#!" or (char == " " and index == 0):
                escaped.append("\\" + char)
            elif not (32 <= ord(char) < 127):
                units = char.encode("utf-16-be")
                escaped.extend(f"\\u{units[i] << 8 | units[i + 1]:04x}" for i in range(0, len(units), 2))
            else:
                escaped.append(char)
        lines.append(f"{name}={''.join(escaped)}")
    return "\n".join(lines) + "\n"


def redact(command: Sequence[str], secrets: Sequence[str]) -> str:
    """The command as text for logs, with secret values replaced."""
    text = " ".join(command)
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text
