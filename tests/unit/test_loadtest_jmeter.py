"""Finding JMeter, the 2.13 compat launch, and the plan itself."""

import re
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pytest

from loadtest import jmeter as jm
from loadtest.results import HEADERLESS_FIELDS


def _jar(path: Path, version: str, class_path: str = "") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    manifest = f"Manifest-Version: 1.0\nImplementation-Version: {version}\n"
    if class_path:
        manifest = f"Manifest-Version: 1.0\n{class_path}\nImplementation-Version: {version}\n"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("META-INF/MANIFEST.MF", manifest)
    return path


def _home(root: Path, version: str) -> Path:
    _jar(root / "bin" / "ApacheJMeter.jar", version)
    script = root / "bin" / "jmeter"
    script.write_text("#!/bin/sh\n")
    script.chmod(0o755)
    return root


def test_jmeter_home_5_runs_its_own_launcher(tmp_path: Path) -> None:
    home = _home(tmp_path / "apache-jmeter-5.6.3", "5.6.3")
    found = jm.find_jmeter({"JMETER_HOME": str(home), "PATH": ""}, cache_dir=tmp_path / "cache")
    assert found == jm.JMeter("5.6.3", (str(home / "bin" / "jmeter"),), compat=False)
    assert found.major == 5


def test_jmeter_bin_beside_its_jar(tmp_path: Path) -> None:
    home = _home(tmp_path / "jm", "5.6.3")
    found = jm.find_jmeter({"JMETER_BIN": str(home / "bin" / "jmeter"), "PATH": ""}, tmp_path / "cache")
    assert not found.compat
    assert found.version == "5.6.3"


def test_a_jmeter_on_path_that_is_5_is_run_as_is(tmp_path: Path) -> None:
    home = _home(tmp_path / "jm", "5.6.3")
    found = jm.find_jmeter({"PATH": str(home / "bin")}, tmp_path / "cache")
    assert found.argv == (str(home / "bin" / "jmeter"),)


def test_debian_2_13_gets_the_compat_launch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "share" / "jmeter"
    _jar(
        home / "bin" / "ApacheJMeter.jar",
        "2.13.19691222",
        f"Class-Path: /x/avalon.jar {tmp_path}/java/xst\n ream.jar /x/bsf.jar",
    )
    launcher = tmp_path / "bin" / "jmeter"  # Debian's /usr/bin/jmeter: a script naming the home
    launcher.parent.mkdir()
    launcher.write_text(f'#!/bin/sh\nrun_java -Djmeter.home={home} org.apache.jmeter.NewDriver "$@"\n')
    launcher.chmod(0o755)
    compiled: list[Path] = []

    def fake_compile(xstream: Path, cache_dir: Path, env: object) -> Path:
        compiled.append(xstream)
        return cache_dir / "classes"

    monkeypatch.setattr(jm, "compile_compat", fake_compile)
    monkeypatch.setattr(jm, "_java", lambda env, tool: f"/jdk/{tool}")
    found = jm.find_jmeter({"PATH": str(launcher.parent)}, cache_dir=tmp_path / "cache")
    assert found.compat
    assert found.major == 2
    assert compiled == [tmp_path / "java" / "xstream.jar"]  # from the manifest, continuation joined
    assert found.argv == (
        "/jdk/java",
        "-cp",
        f"{tmp_path / 'cache' / 'classes'}:{home / 'bin' / 'ApacheJMeter.jar'}",
        f"-Djmeter.home={home}",
        "org.apache.jmeter.NewDriver",
    )


def test_no_jmeter_says_how_to_install_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jm, "DEBIAN_HOME", tmp_path / "nothing")
    with pytest.raises(jm.JMeterError, match="apt-get install jmeter"):
        jm.find_jmeter({"PATH": str(tmp_path)}, tmp_path / "cache")


def test_a_wrong_jmeter_home_is_reported(tmp_path: Path) -> None:
    with pytest.raises(jm.JMeterError, match="JMETER_HOME"):
        jm.find_jmeter({"JMETER_HOME": str(tmp_path), "PATH": ""}, tmp_path / "cache")


def test_version_major() -> None:
    assert jm.version_major("2.13.19691222") == 2
    assert jm.version_major("5.6.3") == 5
    assert jm.version_major("unknown") == 0


def test_the_command_line_carries_results_settings_and_plan_properties(tmp_path: Path) -> None:
    command = jm.plan_command(
        jm.JMeter("5.6.3", ("jmeter",), False),
        plan=jm.PLAN,
        jtl=tmp_path / "r.jtl",
        log=tmp_path / "j.log",
        properties={"threads": "5", "host": "127.0.0.1"},
        property_file=tmp_path / "k.properties",
    )
    assert command[:9] == [
        "jmeter",
        "-n",
        "-t",
        str(jm.PLAN),
        "-l",
        str(tmp_path / "r.jtl"),
        "-j",
        str(tmp_path / "j.log"),
        "-q",
    ]
    assert "-Jthreads=5" in command
    assert "-Jjmeterengine.nongui.port=0" in command
    assert "-Jjmeter.save.saveservice.print_field_names=true" in command
    assert not any("apikey" in part for part in command)


def test_the_headerless_order_matches_the_enabled_fields() -> None:
    # Every field results.py reads without a header is switched on, the others off.
    on = {name.rsplit(".", 1)[-1] for name, value in jm.JTL_PROPERTIES.items() if value == "true"}
    assert {"time", "label", "response_code", "successful", "latency", "connect_time", "thread_counts"} <= on
    assert HEADERLESS_FIELDS[:4] == ("timeStamp", "elapsed", "label", "responseCode")


def test_properties_text_escapes() -> None:
    assert jm.properties_text({"apikey": "a:b=c\\d é"}) == "apikey=a\\:b\\=c\\\\d \\u00e9\n"
    assert jm.properties_text({"k": " lead#"}) == "k=\\ lead\\#\n"


def test_redact_hides_secrets() -> None:
    assert jm.redact(["jmeter", "-Japikey=s3cret"], ["s3cret", ""]) == "jmeter -Japikey=***"


def test_the_plan_is_parameterised_and_loads_in_2_13_and_5() -> None:
    text = jm.PLAN.read_text()
    root = ET.fromstring(text)
    assert root.tag == "jmeterTestPlan"
    values = " ".join(element.text or "" for element in root.iter())  # not the comments
    used = set(re.findall(r"__P\((\w+)", values))
    assert used == {
        "protocol",
        "host",
        "port",
        "path",
        "apikey",
        "threads",
        "loops",
        "rampup",
        "runid",
        "employees",
        "connect_timeout",
        "response_timeout",
    }
    for element in root.iter():
        if "testclass" in element.attrib:
            assert "guiclass" in element.attrib, element.tag
    # Elements JMeter 2.13 knows (nothing 5.x-only such as JSR223 or the JSON assertion).
    classes = {element.attrib["testclass"] for element in root.iter() if "testclass" in element.attrib}
    assert classes == {
        "TestPlan",
        "Arguments",
        "ConfigTestElement",
        "HeaderManager",
        "ThreadGroup",
        "LoopController",
        "HTTPSamplerProxy",
        "ResponseAssertion",
    }
    body = next(e.text for e in root.iter("stringProp") if e.text and e.text.startswith('{"punch_id"'))
    assert body is not None
    for fragment in (
        "${__UUID()}",
        "lt-${__P(runid,manual)}-${__Random(1,${__P(employees,500)})}",
        "${__time(yyyy-MM-dd'T'HH:mm:ss.SSSXXX,)}",
        "${__V(kind_${__Random(0,3)})}",
    ):
        assert fragment in body
    assert '<stringProp name="49588">202</stringProp>' in text
