"""The packaged CloudFormation template: what the deployed stack will be, checked without AWS."""

from __future__ import annotations

import fnmatch
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ponto.bench.coldstart import ZIP_BYTES_TARGET

from .conftest import ROOT, STAGE, Packaged

pytestmark = [pytest.mark.template, pytest.mark.slow]

MAX_ZIP_BYTES = ZIP_BYTES_TARGET  # 5 MB, in the stricter (decimal) reading: Lambda counts MiB
SQS_MAX_RETENTION = 1_209_600  # 14 days


def ref(name: str) -> dict[str, str]:
    return {"Ref": name}


def getatt(name: str, attribute: str) -> dict[str, list[str]]:
    return {"Fn::GetAtt": [name, attribute]}


def walk(node: Any, path: str = "") -> Iterator[tuple[str, Any, Any]]:
    """Yield (path, key, value) for every mapping entry in a JSON document."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield f"{path}/{key}", key, value
            yield from walk(value, f"{path}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from walk(value, f"{path}[{index}]")


def refers_to(node: Any, logical_id: str) -> bool:
    """True if node contains a Ref / Fn::GetAtt to logical_id."""
    for _path, key, value in walk(node):
        if key == "Ref" and value == logical_id:
            return True
        if key == "Fn::GetAtt" and isinstance(value, list) and value and value[0] == logical_id:
            return True
    return False


def statements(policy_document: dict[str, Any]) -> list[dict[str, Any]]:
    """The document's statements; one granted under a condition (Fn::If) is judged as if granted."""
    found = policy_document["Statement"]
    listed: list[dict[str, Any]] = []
    for statement in found if isinstance(found, list) else [found]:
        if "Fn::If" in statement:
            listed += [branch for branch in statement["Fn::If"][1:] if branch != {"Ref": "AWS::NoValue"}]
        else:
            listed.append(statement)
    return listed


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


# ---------------------------------------------------------------- lint and packaging


def cfn_lint_executable() -> str:
    beside_python = Path(sys.executable).parent / "cfn-lint"
    if beside_python.exists():
        return str(beside_python)
    found = shutil.which("cfn-lint")
    if found is None:
        pytest.fail("cfn-lint is not installed (pip install the dev extra)")
    return found


def test_cfn_lint_reports_no_errors_or_warnings(packaged: Packaged) -> None:
    result = subprocess.run(
        [cfn_lint_executable(), "--format", "json", "--", str(packaged.template_path)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.stdout.strip(), f"cfn-lint printed nothing (rc={result.returncode}): {result.stderr}"
    matches = json.loads(result.stdout)
    serious = [m for m in matches if m["Level"] in ("Error", "Warning")]
    assert serious == [], json.dumps(serious, indent=2)
    assert result.returncode == 0, result.stdout + result.stderr


def test_deploy_zip_is_small_and_holds_only_the_lambda_code(packaged: Packaged) -> None:
    assert packaged.zip_path.is_file(), packaged.output
    size = packaged.zip_path.stat().st_size
    assert size <= MAX_ZIP_BYTES, f"{packaged.zip_path.name} is {size} bytes (> {MAX_ZIP_BYTES})"
    with zipfile.ZipFile(packaged.zip_path) as archive:
        names = archive.namelist()
    for required in ("functions/worker.py", "functions/migrate.py", "ponto/__init__.py"):
        assert required in names
    assert any(n.startswith("ponto/contract/") for n in names)
    assert any(n.startswith("psycopg2/") for n in names)
    assert any(n.startswith("aws_lambda_powertools/") for n in names)
    assert any(n.startswith("tzdata/") for n in names)
    assert any(n.endswith("-x86_64-linux-gnu.so") for n in names), "no manylinux x86_64 extension modules"
    forbidden = re.compile(
        r"^(ponto/local/|ponto/bench/|tests/|node_modules/|\.venv/|boto3/|botocore/|\.serverless/)"
        r"|__pycache__/|\.pyc$|^rds_config\.py$|^serverless\.yml$"
    )
    assert [n for n in names if forbidden.search(n)] == []


# What the Lambda python3.12 runtime provides (serverless.yml's noDeploy): taken from this virtualenv.
_RUNTIME_PACKAGES = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six")
_IMPORT_CHECK = """
import json, sys, zoneinfo
code = sys.argv[1]
sys.path[:0] = [code, sys.argv[2]]
import functions.migrate, functions.worker
from ponto.punch import parse_record
from ponto.store import copy_text
zoneinfo.reset_tzpath(to=[])  # no system zone files: the zip's tzdata must hold the zone
zone = zoneinfo.ZoneInfo("America/Sao_Paulo")
body = '{"employee_id": "e-1", "punched_at": "2026-11-22T08:00:00-03:00", "kind": "in"}'
record = {"messageId": "m-1", "body": body, "messageAttributes": {}}
row = copy_text([parse_record(record, zone)])
packaged = ("functions", "ponto", "aws_lambda_powertools", "psycopg2", "orjson", "fastjsonschema", "tzdata")
outside = sorted(
    name for name, module in list(sys.modules.items())
    if name.split(".")[0] in packaged and not (getattr(module, "__file__", None) or code).startswith(code)
)
print(json.dumps({"row": row, "outside": outside}))
"""


@pytest.mark.skipif(sys.platform != "linux" or os.uname().machine != "x86_64", reason="the zip holds x86_64 wheels")
def test_the_functions_import_from_the_zip_alone(packaged: Packaged, tmp_path: Path) -> None:
    code, runtime = tmp_path / "code", tmp_path / "runtime"
    with zipfile.ZipFile(packaged.zip_path) as archive:
        archive.extractall(code)
    runtime.mkdir()
    for name in _RUNTIME_PACKAGES:
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.origin is not None:
            origin = Path(spec.origin)
            source = origin.parent if origin.name == "__init__.py" else origin
            (runtime / source.name).symlink_to(source)
    env = {"PATH": os.environ.get("PATH", ""), "PONTO_DATABASE_URL": "postgresql://ponto@127.0.0.1:1/ponto"}
    # -I -S: no site-packages, no environment paths: only the zip and the runtime's packages.
    done = subprocess.run(
        [sys.executable, "-I", "-S", "-c", _IMPORT_CHECK, str(code), str(runtime)],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["outside"] == []
    assert result["row"].split("\t")[2] == "2026-11-22T08:00:00-03:00"


def test_package_ran_once_in_reasonable_time(packaged: Packaged) -> None:
    # Informational bound: the whole packaging (pip download of the wheels included) takes ~15 s here.
    assert packaged.seconds < 300, packaged.output


# ---------------------------------------------------------------- queues and the event source mapping


def test_tunables_are_plain_literals_in_custom_ponto(sls_config: dict[str, Any]) -> None:
    tunables = sls_config["custom"]["ponto"]
    for name in (
        "batchSize",
        "maximumBatchingWindow",
        "maximumConcurrency",
        "visibilityTimeout",
        "maxReceiveCount",
        "workerTimeout",
        "workerMemory",
    ):
        assert isinstance(tunables[name], int), f"custom.ponto.{name} must be a plain integer"
    assert tunables["visibilityTimeout"] >= 6 * tunables["workerTimeout"] + tunables["maximumBatchingWindow"]
    assert tunables["maxReceiveCount"] >= 5
    assert 2 <= tunables["maximumConcurrency"] <= 1000


def test_punches_queue_redrives_to_the_dlq(packaged: Packaged, sls_config: dict[str, Any]) -> None:
    tunables = sls_config["custom"]["ponto"]
    queue = packaged.resources["PunchesQueue"]
    assert queue["Type"] == "AWS::SQS::Queue"
    props = queue["Properties"]
    redrive = props["RedrivePolicy"]
    assert redrive["deadLetterTargetArn"] == getatt("PunchesDlq", "Arn")
    assert redrive["maxReceiveCount"] >= 5
    assert redrive["maxReceiveCount"] == tunables["maxReceiveCount"]
    assert props["SqsManagedSseEnabled"] is True
    assert props["VisibilityTimeout"] == tunables["visibilityTimeout"]

    worker = packaged.resources["WorkerLambdaFunction"]["Properties"]
    mapping = packaged.resources["WorkerEventSourceMappingSQSPunchesQueue"]["Properties"]
    window = mapping["MaximumBatchingWindowInSeconds"]
    assert props["VisibilityTimeout"] >= 6 * worker["Timeout"] + window
    # Messages expire by their original enqueue time: the DLQ must keep them longer than the source.
    assert props["MessageRetentionPeriod"] < SQS_MAX_RETENTION


def test_dlq_keeps_messages_14_days_encrypted_and_allows_only_the_source(packaged: Packaged) -> None:
    dlq = packaged.resources["PunchesDlq"]
    assert dlq["Type"] == "AWS::SQS::Queue"
    props = dlq["Properties"]
    assert props["MessageRetentionPeriod"] == SQS_MAX_RETENTION
    assert props["SqsManagedSseEnabled"] is True
    assert "RedrivePolicy" not in props
    allow = props["RedriveAllowPolicy"]
    assert allow["redrivePermission"] == "byQueue"
    (source_arn,) = allow["sourceQueueArns"]
    queue_name = packaged.resources["PunchesQueue"]["Properties"]["QueueName"]
    assert source_arn["Fn::Join"][1][-1] == queue_name


def test_event_source_mapping(packaged: Packaged, sls_config: dict[str, Any]) -> None:
    tunables = sls_config["custom"]["ponto"]
    mappings = packaged.of_type("AWS::Lambda::EventSourceMapping")
    assert list(mappings) == ["WorkerEventSourceMappingSQSPunchesQueue"]
    props = mappings["WorkerEventSourceMappingSQSPunchesQueue"]["Properties"]
    assert props["EventSourceArn"] == getatt("PunchesQueue", "Arn")
    assert props["FunctionName"] == getatt("WorkerLambdaFunction", "Arn")
    assert props["BatchSize"] == tunables["batchSize"] == 100
    assert props["MaximumBatchingWindowInSeconds"] == tunables["maximumBatchingWindow"] == 5
    assert props["ScalingConfig"]["MaximumConcurrency"] == tunables["maximumConcurrency"] == 5
    assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert props.get("Enabled", True) is True


# ---------------------------------------------------------------- functions

SECRET_ARN = getatt("DbCluster", "MasterUserSecret.SecretArn")
WORKER_DB_USER = "ponto_worker"  # the database role of migration 0003
XRAY_ACTIONS = {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}
EXPECTED_ENV = {
    "PONTO_DB_HOST": getatt("DbCluster", "Endpoint.Address"),
    "PONTO_DB_PORT": getatt("DbCluster", "Endpoint.Port"),
    "PONTO_DB_NAME": "ponto",
    # IAM database authentication needs TLS; with the database CA layer, verify-full against its bundle
    "PONTO_DB_SSLMODE": {"Fn::If": ["HasDbCaLayer", "verify-full", "require"]},
    "PONTO_DB_SSLROOTCERT": {"Fn::If": ["HasDbCaLayer", "/opt/rds-ca/global-bundle.pem", ""]},
    "PONTO_TIMEZONE": "America/Sao_Paulo",
    "POWERTOOLS_SERVICE_NAME": "ponto",
    "POWERTOOLS_METRICS_NAMESPACE": "Ponto",
}


@pytest.mark.parametrize("function", ["WorkerLambdaFunction", "MigrateLambdaFunction"])
def test_functions_in_vpc_traced_with_db_settings(packaged: Packaged, function: str) -> None:
    props = packaged.resources[function]["Properties"]
    assert props["Runtime"] == "python3.12"
    assert props["Architectures"] == ["x86_64"]
    assert props["TracingConfig"] == {"Mode": "Active"}
    assert props["VpcConfig"]["SecurityGroupIds"] == [getatt("LambdaSecurityGroup", "GroupId")]
    assert props["VpcConfig"]["SubnetIds"] == [ref("PrivateSubnetA"), ref("PrivateSubnetB")]
    env = props["Environment"]["Variables"]
    for name, value in EXPECTED_ENV.items():
        assert env.get(name) == value, name
    assert env["POWERTOOLS_LOG_LEVEL"] in ("DEBUG", "INFO", "WARNING", "ERROR")


def test_worker_has_no_reserved_concurrency_and_no_function_dlq(packaged: Packaged) -> None:
    worker = packaged.resources["WorkerLambdaFunction"]
    props = worker["Properties"]
    assert props["Handler"] == "functions/worker.handler"
    assert "ReservedConcurrentExecutions" not in props
    assert "DeadLetterConfig" not in props
    assert packaged.of_type("AWS::Lambda::EventInvokeConfig") == {}
    assert 60 <= props["Timeout"] <= 900
    assert props["MemorySize"] >= 256


def test_migrate_is_not_triggered_by_anything(packaged: Packaged, contract: dict[str, Any]) -> None:
    props = packaged.resources["MigrateLambdaFunction"]["Properties"]
    assert props["Handler"] == "functions/migrate.handler"
    assert props["Timeout"] >= 120
    for resource_type in ("AWS::Lambda::EventSourceMapping", "AWS::Lambda::Permission", "AWS::Events::Rule"):
        for name, resource in packaged.of_type(resource_type).items():
            assert not refers_to(resource, "MigrateLambdaFunction"), name
    assert packaged.of_type("AWS::ApiGateway::Method") == {}
    assert packaged.of_type("AWS::Lambda::Url") == {}
    body = packaged.resources["PunchApi"]["Properties"]["Body"]
    assert "MigrateLambdaFunction" not in json.dumps(body)
    # The write path is API Gateway to SQS: no code of ours
    assert list(body["paths"]["/punches"]) == ["post"]
    assert "lambda" not in json.dumps(body["paths"]["/punches"]).lower()
    # The personal write path is API Gateway to SQS too
    assert "lambda" not in json.dumps(body["paths"]["/me/punches"]).lower()
    # The read routes (GET only) invoke the receipts function, and nothing else does
    for path, operations in body["paths"].items():
        if path not in ("/punches", "/me/punches"):
            assert list(operations) == ["get"], path
            uri = operations["get"]["x-amazon-apigateway-integration"]["uri"]
            assert "${ReceiptsLambdaFunction.Arn}" in uri["Fn::Sub"], path


def test_the_receipts_function_is_capped_and_least_privilege(packaged: Packaged, sls_config: dict[str, Any]) -> None:
    props = packaged.resources["ReceiptsLambdaFunction"]["Properties"]
    # Its reserved concurrency caps the database connections a burst of reads can open
    assert props["ReservedConcurrentExecutions"] == sls_config["custom"]["ponto"]["receiptsConcurrency"]
    assert props["Environment"]["Variables"]["PONTO_DB_IAM_USER"] == "ponto_reader"
    role = function_role(packaged, "ReceiptsLambdaFunction", "ReceiptsRole")
    granted = granted_by(role)
    assert_logs_only_to(granted, "ReceiptsLogGroup", packaged)
    (connect,) = granted.pop("rds-db:connect")
    assert connect["Fn::Sub"].endswith("dbuser:${DbCluster.DBClusterResourceId}/ponto_reader")
    # The signing certificate's secret, when one is given (a condition), and nothing else
    assert granted.pop("secretsmanager:GetSecretValue") == [{"Ref": "ReceiptSigningSecretArn"}]
    assert granted == {}  # X-Ray's two actions aside (granted_by leaves them out)
    permission = packaged.resources["ReceiptsInvokePermission"]["Properties"]
    assert permission["Principal"] == "apigateway.amazonaws.com"
    assert permission["SourceArn"]["Fn::Sub"].endswith("${PunchApi}/*/GET/*")


def test_no_password_anywhere(packaged: Packaged) -> None:
    # The employees' user pool states its password policy; it holds no password.
    allowed_keys = {"ManageMasterUserPassword", "PasswordPolicy", "TemporaryPasswordValidityDays"}
    looks_like_password = re.compile(r"pass(word|wd)|^pwd$|secretstring", re.IGNORECASE)
    searched = {
        "Parameters": packaged.template.get("Parameters", {}),
        "Outputs": packaged.template.get("Outputs", {}),
        **{f"Resources/{k}": v.get("Properties", {}) for k, v in packaged.resources.items()},
    }
    offending = [
        f"{where}{path}"
        for where, node in searched.items()
        for path, key, _value in walk(node)
        if looks_like_password.search(str(key)) and key not in allowed_keys
    ]
    assert offending == []
    assert packaged.of_type("AWS::SecretsManager::Secret") == {}, "the master secret is managed by RDS"
    holding_a_secret = []
    for function_id, function in packaged.of_type("AWS::Lambda::Function").items():
        variables = function["Properties"].get("Environment", {}).get("Variables", {})
        for name, value in variables.items():
            assert not re.search(r"PASS|PWD|TOKEN|CREDENTIAL", name), name
            if name.endswith("SECRET_ARN"):
                assert isinstance(value, dict), f"{name} must be a secret's ARN by reference, not a literal"
                holding_a_secret.append((function_id, name))
    # The worker and the receipts function sign in with IAM tokens: only migrate may know (and read) the
    # master secret; the receipts function reads the signing certificate's secret (a parameter), if any.
    assert sorted(holding_a_secret) == [
        ("MigrateLambdaFunction", "PONTO_DB_SECRET_ARN"), ("ReceiptsLambdaFunction", "PONTO_SIGNING_SECRET_ARN")
    ]  # fmt: skip
    readers = [
        role_id
        for role_id, role in packaged.of_type("AWS::IAM::Role").items()
        for policy in role["Properties"].get("Policies", [])
        for statement in statements(policy["PolicyDocument"])
        if any(action.startswith("secretsmanager:") for action in as_list(statement["Action"]))
    ]
    assert sorted(readers) == ["MigrateRole", "ReceiptsRole"]  # the receipts' one only on its parameter's secret


def test_worker_signs_in_with_its_own_database_role(packaged: Packaged) -> None:
    worker = packaged.resources["WorkerLambdaFunction"]["Properties"]["Environment"]["Variables"]
    assert worker["PONTO_DB_IAM_USER"] == WORKER_DB_USER
    assert "PONTO_DB_SECRET_ARN" not in worker
    migrate = packaged.resources["MigrateLambdaFunction"]["Properties"]["Environment"]["Variables"]
    assert migrate["PONTO_DB_SECRET_ARN"] == SECRET_ARN
    assert "PONTO_DB_IAM_USER" not in migrate
    cluster = packaged.resources["DbCluster"]["Properties"]
    assert cluster["EnableIAMDatabaseAuthentication"] is True


def function_role(packaged: Packaged, function: str, role_id: str) -> dict[str, Any]:
    """The role of function: its own role resource, trusted by Lambda only."""
    # ${Role.Arn} through Fn::Sub: the same implicit dependency as a GetAtt, without the redundant
    # DependsOn that the framework adds beside a GetAtt or logical name (cfn-lint W3005).
    assert packaged.resources[function]["Properties"]["Role"] == {"Fn::Sub": "${" + role_id + ".Arn}"}
    role = packaged.resources[role_id]
    assert role["Type"] == "AWS::IAM::Role"
    props: dict[str, Any] = role["Properties"]
    (trust,) = statements(props["AssumeRolePolicyDocument"])
    assert trust == {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
    (managed,) = props["ManagedPolicyArns"]
    assert managed == {"Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole"}
    assert "PermissionsBoundary" not in props
    return props


def granted_by(role: dict[str, Any]) -> dict[str, list[Any]]:
    """action -> resources, over every inline statement; only Allow, no wildcard but X-Ray's."""
    granted: dict[str, list[Any]] = {}
    for policy in role["Policies"]:
        for statement in statements(policy["PolicyDocument"]):
            assert statement["Effect"] == "Allow"
            assert "NotAction" not in statement and "NotResource" not in statement
            resources = as_list(statement["Resource"])
            for action in as_list(statement["Action"]):
                assert "*" not in action, action
                if action not in XRAY_ACTIONS:
                    assert "*" not in resources, f"{action} on every resource"
                granted.setdefault(action, []).extend(resources)
    for action in XRAY_ACTIONS:  # X-Ray has no resource-level permissions
        assert granted.pop(action) == ["*"], action
    return granted


def assert_logs_only_to(granted: dict[str, list[Any]], log_group: str, packaged: Packaged) -> None:
    assert packaged.resources[log_group]["Type"] == "AWS::Logs::LogGroup"
    for action in ("logs:CreateLogStream", "logs:PutLogEvents"):
        assert granted.pop(action) == [getatt(log_group, "Arn")], action
    assert not any(a.startswith("logs:") for a in granted)


def test_the_framework_creates_no_shared_role(packaged: Packaged) -> None:
    roles = packaged.of_type("AWS::IAM::Role")
    assert sorted(roles) == [
        "ApiGatewayCloudWatchRole", "ApiGatewaySqsRole", "BackupRole", "MigrateRole", "ReceiptsRole", "WorkerRole"
    ]  # fmt: skip
    assert not refers_to(packaged.template, "IamRoleLambdaExecution")
    assert packaged.of_type("AWS::IAM::Policy") == {}
    assert packaged.of_type("AWS::IAM::ManagedPolicy") == {}


def test_worker_role_is_least_privilege(packaged: Packaged) -> None:
    role = function_role(packaged, "WorkerLambdaFunction", "WorkerRole")
    granted = granted_by(role)
    assert_logs_only_to(granted, "WorkerLogGroup", packaged)
    queue = getatt("PunchesQueue", "Arn")
    sqs = {action: resources for action, resources in granted.items() if action.startswith("sqs:")}
    assert sqs == {"sqs:ReceiveMessage": [queue], "sqs:DeleteMessage": [queue], "sqs:GetQueueAttributes": [queue]}
    (connect,) = granted["rds-db:connect"]
    dbuser = f"dbuser:${{DbCluster.DBClusterResourceId}}/{WORKER_DB_USER}"
    assert connect == {"Fn::Sub": "arn:${AWS::Partition}:rds-db:${AWS::Region}:${AWS::AccountId}:" + dbuser}
    assert sorted(granted) == ["rds-db:connect", *sorted(sqs)]
    assert not any(a.startswith(("secretsmanager:", "kms:")) for a in granted)
    # The event source mapping is created after the role that lets Lambda poll the queue.
    mapping = packaged.resources["WorkerEventSourceMappingSQSPunchesQueue"]
    assert "WorkerRole" in as_list(mapping["DependsOn"])


def test_migrate_role_reads_only_the_master_secret(packaged: Packaged) -> None:
    role = function_role(packaged, "MigrateLambdaFunction", "MigrateRole")
    granted = granted_by(role)
    assert_logs_only_to(granted, "MigrateLogGroup", packaged)
    assert granted == {"secretsmanager:GetSecretValue": [SECRET_ARN]}


# ---------------------------------------------------------------- API Gateway


def test_rest_api_is_built_from_the_contract(packaged: Packaged, contract: dict[str, Any]) -> None:
    api = packaged.resources["PunchApi"]
    assert api["Type"] == "AWS::ApiGateway::RestApi"
    props = api["Properties"]
    assert props["Body"] == contract
    assert props["EndpointConfiguration"] == {"Types": ["REGIONAL"]}
    assert props["Name"] == f"ponto-{STAGE}"


def test_contract_validates_and_proxies_to_sqs(packaged: Packaged) -> None:
    body = packaged.resources["PunchApi"]["Properties"]["Body"]
    post = body["paths"]["/punches"]["post"]
    validator = post["x-amazon-apigateway-request-validator"]
    assert body["x-amazon-apigateway-request-validators"][validator]["validateRequestBody"] is True
    schema_ref = post["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    model = body["components"]["schemas"][schema_ref.rsplit("/", 1)[-1]]
    assert "oneOf" in model
    # API key required: a header apiKey scheme named x-api-key, used by the method.
    (requirement,) = post["security"]
    (scheme_name,) = requirement
    scheme = body["components"]["securitySchemes"][scheme_name]
    assert scheme == {"type": "apiKey", "name": "x-api-key", "in": "header"}
    integration = post["x-amazon-apigateway-integration"]
    assert integration["type"] == "aws"
    assert integration["passthroughBehavior"] == "never"
    assert integration["credentials"] == getatt("ApiGatewaySqsRole", "Arn")
    assert refers_to(integration["uri"], "PunchesQueue")
    assert "Action=SendMessage" in integration["requestTemplates"]["application/json"]
    responses = body["x-amazon-apigateway-gateway-responses"]
    codes = {name: int(r["statusCode"]) for name, r in responses.items() if "statusCode" in r}
    assert codes["BAD_REQUEST_BODY"] == 400
    assert "validationErrorString" in responses["BAD_REQUEST_BODY"]["responseTemplates"]["application/json"]
    assert codes["UNSUPPORTED_MEDIA_TYPE"] == 415
    assert codes["INVALID_API_KEY"] == 403
    assert codes["THROTTLED"] == 429
    assert codes["QUOTA_EXCEEDED"] == 429


def test_gateway_role_may_only_send_to_the_queue(packaged: Packaged) -> None:
    props = packaged.resources["ApiGatewaySqsRole"]["Properties"]
    (trust,) = statements(props["AssumeRolePolicyDocument"])
    assert trust["Principal"] == {"Service": "apigateway.amazonaws.com"}
    # Confused-deputy guard: API Gateway acting for an API of this account and region only, when it
    # states for whom it acts (IfExists: an absent key must not refuse the write path's role).
    assert trust["Condition"]["StringEqualsIfExists"] == {"aws:SourceAccount": ref("AWS::AccountId")}
    source = trust["Condition"]["ArnLikeIfExists"]["aws:SourceArn"]
    assert source == {"Fn::Sub": "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:*"}
    granted = [s for p in props["Policies"] for s in statements(p["PolicyDocument"])]
    assert granted == [{"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": getatt("PunchesQueue", "Arn")}]
    assert "ManagedPolicyArns" not in props


def test_deployment_id_tracks_the_contract_and_feeds_the_stage(packaged: Packaged) -> None:
    deployments = packaged.of_type("AWS::ApiGateway::Deployment")
    assert len(deployments) == 1
    (deployment_id,) = deployments
    assert re.fullmatch(r"PunchApiDeployment[0-9a-f]{12}", deployment_id), deployment_id
    assert "PunchApiDeployment" not in packaged.resources
    stage_id, stage = packaged.one("AWS::ApiGateway::Stage")
    props = stage["Properties"]
    assert props["DeploymentId"] == ref(deployment_id)
    assert props["RestApiId"] == ref("PunchApi")
    assert props["StageName"] == STAGE
    assert props["TracingEnabled"] is True
    # Nothing still points at the un-hashed id.
    assert not refers_to(packaged.template, "PunchApiDeployment")
    assert stage_id == "PunchApiStage"


def test_deployment_hash_plugin_changes_id_with_the_body() -> None:
    """The local plugin renames the deployment per Body and rewrites Ref/GetAtt/DependsOn/Sub."""
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not on PATH")
    script = r"""
const Plugin = require(process.argv[1]);
function run(body) {
  const template = { Resources: {
    PunchApi: { Type: 'AWS::ApiGateway::RestApi', Properties: { Body: body } },
    PunchApiDeployment: { Type: 'AWS::ApiGateway::Deployment',
                          Properties: { RestApiId: { Ref: 'PunchApi' } } },
    Stage: { Type: 'AWS::ApiGateway::Stage', DependsOn: ['PunchApiDeployment'],
             Properties: { DeploymentId: { Ref: 'PunchApiDeployment' } } },
  }, Outputs: { D: { Value: { 'Fn::Sub': '${PunchApiDeployment}' } } } };
  const config = { restApi: 'PunchApi', deployment: 'PunchApiDeployment' };
  const sls = { service: { custom: { apiDeploymentHash: config },
                           provider: { compiledCloudFormationTemplate: template } },
                cli: { log() {} }, classes: { Error } };
  const plugin = new Plugin(sls, {}, { log() {} });
  plugin.hooks['after:aws:package:finalize:mergeCustomProviderResources']();
  return template;
}
const a = run({ paths: { '/a': {} }, x: 1 });
const b = run({ x: 1, paths: { '/a': {} } });
const c = run({ paths: { '/b': {} }, x: 1 });
console.log(JSON.stringify({ a, b, c }));
"""
    plugin = ROOT / "serverless" / "api-deployment-hash.js"
    result = subprocess.run([node, "-e", script, str(plugin)], capture_output=True, text=True, timeout=60, check=True)
    out = json.loads(result.stdout)

    def deployment_id(template: dict[str, Any]) -> str:
        found = [k for k, v in template["Resources"].items() if v["Type"] == "AWS::ApiGateway::Deployment"]
        assert len(found) == 1
        return str(found[0])

    a, b, c = (deployment_id(out[k]) for k in "abc")
    assert a == b, "key order must not change the hash"
    assert a != c, "a different API body must give a different deployment"
    stage = out["a"]["Resources"]["Stage"]
    assert stage["DependsOn"] == [a]
    assert stage["Properties"]["DeploymentId"] == ref(a)
    assert out["a"]["Outputs"]["D"]["Value"] == {"Fn::Sub": "${" + a + "}"}


def test_api_key_and_usage_plan(packaged: Packaged) -> None:
    key_id, key = packaged.one("AWS::ApiGateway::ApiKey")
    assert key["Properties"]["Enabled"] is True
    assert "Value" not in key["Properties"], "let API Gateway generate the key value"
    plan_id, plan = packaged.one("AWS::ApiGateway::UsagePlan")
    props = plan["Properties"]
    assert props["ApiStages"] == [{"ApiId": ref("PunchApi"), "Stage": ref("PunchApiStage")}]
    assert props["Throttle"]["RateLimit"] > 0
    assert props["Throttle"]["BurstLimit"] >= props["Throttle"]["RateLimit"]
    assert props["Quota"]["Period"] == "DAY"
    assert props["Quota"]["Limit"] > 0
    _, link = packaged.one("AWS::ApiGateway::UsagePlanKey")
    assert link["Properties"] == {"KeyId": ref(key_id), "KeyType": "API_KEY", "UsagePlanId": ref(plan_id)}


# ---------------------------------------------------------------- network


def test_private_network_without_internet_access(packaged: Packaged) -> None:
    _, vpc = packaged.one("AWS::EC2::VPC")
    assert vpc["Properties"]["CidrBlock"].startswith("10.")
    assert vpc["Properties"]["EnableDnsSupport"] is True
    assert vpc["Properties"]["EnableDnsHostnames"] is True
    subnets = packaged.of_type("AWS::EC2::Subnet")
    assert sorted(subnets) == ["PrivateSubnetA", "PrivateSubnetB"]
    azs = [s["Properties"]["AvailabilityZone"] for s in subnets.values()]
    assert all("Fn::GetAZs" in json.dumps(az) for az in azs)
    assert azs[0] != azs[1]
    assert all(s["Properties"].get("MapPublicIpOnLaunch") is False for s in subnets.values())
    for resource_type in (
        "AWS::EC2::InternetGateway",
        "AWS::EC2::NatGateway",
        "AWS::EC2::EIP",
        "AWS::EC2::Route",
        "AWS::EC2::VPCGatewayAttachment",
    ):
        assert packaged.of_type(resource_type) == {}, resource_type


def test_database_accepts_postgres_only_from_the_functions(packaged: Packaged) -> None:
    db_sg = packaged.resources["DbSecurityGroup"]["Properties"]
    assert db_sg["SecurityGroupIngress"] == [
        {
            "Description": db_sg["SecurityGroupIngress"][0]["Description"],
            "IpProtocol": "tcp",
            "FromPort": 5432,
            "ToPort": 5432,
            "SourceSecurityGroupId": getatt("LambdaSecurityGroup", "GroupId"),
        }
    ]
    for name, rule in packaged.of_type("AWS::EC2::SecurityGroupIngress").items():
        assert not refers_to(rule["Properties"].get("GroupId"), "DbSecurityGroup"), name
    for _path, key, value in walk(packaged.template):
        if key in ("CidrIp", "CidrIpv6"):
            assert value not in ("0.0.0.0/0", "::/0")
    cluster = packaged.resources["DbCluster"]["Properties"]
    assert cluster["VpcSecurityGroupIds"] == [getatt("DbSecurityGroup", "GroupId")]


def test_secrets_manager_is_reachable_from_the_private_subnets(packaged: Packaged) -> None:
    _, endpoint = packaged.one("AWS::EC2::VPCEndpoint")
    props = endpoint["Properties"]
    assert props["VpcEndpointType"] == "Interface"
    assert "secretsmanager" in json.dumps(props["ServiceName"])
    assert props["PrivateDnsEnabled"] is True
    assert props["SubnetIds"] == [ref("PrivateSubnetA"), ref("PrivateSubnetB")]
    (sg,) = props["SecurityGroupIds"]
    sg_props = packaged.resources[sg["Fn::GetAtt"][0]]["Properties"]
    (rule,) = sg_props["SecurityGroupIngress"]
    assert (rule["FromPort"], rule["ToPort"]) == (443, 443)
    assert rule["SourceSecurityGroupId"] == getatt("LambdaSecurityGroup", "GroupId")


# ---------------------------------------------------------------- Aurora Serverless v2


def deprecated_engine_versions(engine: str) -> set[str]:
    spec = importlib.util.find_spec("cfnlint")
    assert spec is not None and spec.origin is not None
    data = Path(spec.origin).parent / "data/schemas/extensions/aws_rds_dbcluster/engine_version_deprecated.json"
    versions: set[str] = set()
    for rule in json.loads(data.read_text(encoding="utf-8"))["allOf"]:
        props = rule["if"]["properties"]
        if props.get("Engine", {}).get("const") == engine:
            versions.update(props["EngineVersion"]["enum"])
    assert versions, f"no deprecation data for {engine} in cfn-lint"
    return versions


def test_aurora_serverless_v2_cluster(packaged: Packaged, sls_config: dict[str, Any]) -> None:
    cluster = packaged.resources["DbCluster"]
    assert cluster["Type"] == "AWS::RDS::DBCluster"
    assert cluster["DeletionPolicy"] == "Snapshot"
    assert cluster["UpdateReplacePolicy"] == "Snapshot"
    props = cluster["Properties"]
    assert props["Engine"] == "aurora-postgresql"
    assert str(props["EngineVersion"]) not in deprecated_engine_versions("aurora-postgresql")
    assert "EngineMode" not in props, "EngineMode serverless is Aurora Serverless v1"
    scaling = props["ServerlessV2ScalingConfiguration"]
    assert sls_config["params"]["default"]["minAcu"] == 0
    assert scaling["MinCapacity"] == 0
    assert scaling["MaxCapacity"] >= 1
    assert 300 <= scaling["SecondsUntilAutoPause"] <= 86400
    assert props["ManageMasterUserPassword"] is True
    assert "MasterUserPassword" not in props
    assert props["MasterUsername"]
    assert props["DatabaseName"] == "ponto"
    assert props["StorageEncrypted"] is True
    assert props["BackupRetentionPeriod"] >= 7
    assert props["DeletionProtection"] in (True, False)
    assert props["DBSubnetGroupName"] == ref("DbSubnetGroup")
    subnet_group = packaged.resources["DbSubnetGroup"]["Properties"]
    assert subnet_group["SubnetIds"] == [ref("PrivateSubnetA"), ref("PrivateSubnetB")]


def test_aurora_instance_is_serverless_and_private(packaged: Packaged) -> None:
    instances = packaged.of_type("AWS::RDS::DBInstance")
    assert list(instances) == ["DbInstance"]
    props = instances["DbInstance"]["Properties"]
    assert props["DBInstanceClass"] == "db.serverless"
    assert props["Engine"] == "aurora-postgresql"
    assert props["DBClusterIdentifier"] == ref("DbCluster")
    assert props["PubliclyAccessible"] is False


# ---------------------------------------------------------------- alarms and outputs


def test_alarms_notify_the_topic(packaged: Packaged, sls_config: dict[str, Any]) -> None:
    topic_id, _topic = packaged.one("AWS::SNS::Topic")
    dlq_alarm = packaged.resources["DlqNotEmptyAlarm"]["Properties"]
    assert dlq_alarm["Namespace"] == "AWS/SQS"
    assert dlq_alarm["MetricName"] == "ApproximateNumberOfMessagesVisible"
    assert dlq_alarm["Dimensions"] == [{"Name": "QueueName", "Value": getatt("PunchesDlq", "QueueName")}]
    assert dlq_alarm["Statistic"] == "Maximum"
    assert dlq_alarm["Period"] == 60
    assert dlq_alarm["Threshold"] == 0
    assert dlq_alarm["ComparisonOperator"] == "GreaterThanThreshold"

    age_alarm = packaged.resources["QueueBacklogAgeAlarm"]["Properties"]
    assert age_alarm["Namespace"] == "AWS/SQS"
    assert age_alarm["MetricName"] == "ApproximateAgeOfOldestMessage"
    assert age_alarm["Dimensions"] == [{"Name": "QueueName", "Value": getatt("PunchesQueue", "QueueName")}]
    assert age_alarm["Threshold"] == sls_config["params"]["default"]["oldestMessageAgeThreshold"]
    assert age_alarm["ComparisonOperator"] == "GreaterThanThreshold"

    unsealed_alarm = packaged.resources["PunchesUnsealedAlarm"]["Properties"]
    assert unsealed_alarm["Namespace"] == "Ponto"  # the worker's EMF (Powertools Metrics)
    assert unsealed_alarm["MetricName"] == "PunchesUnsealed"
    assert unsealed_alarm["Dimensions"] == [{"Name": "service", "Value": "ponto"}]
    assert unsealed_alarm["Statistic"] == "Sum"
    assert unsealed_alarm["Period"] == 300
    assert unsealed_alarm["Threshold"] == 0
    assert unsealed_alarm["ComparisonOperator"] == "GreaterThanThreshold"
    assert "NSR" in unsealed_alarm["AlarmDescription"]
    assert "ponto seal" in unsealed_alarm["AlarmDescription"]
    worker_env = packaged.resources["WorkerLambdaFunction"]["Properties"]["Environment"]["Variables"]
    assert worker_env["POWERTOOLS_METRICS_NAMESPACE"] == unsealed_alarm["Namespace"]
    assert worker_env["POWERTOOLS_SERVICE_NAME"] == unsealed_alarm["Dimensions"][0]["Value"]

    for alarm in (dlq_alarm, age_alarm, unsealed_alarm):
        assert alarm["AlarmActions"] == [ref(topic_id)]
        assert alarm["TreatMissingData"] == "notBreaching"

    subscription = packaged.one("AWS::SNS::Subscription")[1]
    assert subscription["Condition"] in packaged.template["Conditions"]
    assert subscription["Properties"]["TopicArn"] == ref(topic_id)


def test_outputs(packaged: Packaged) -> None:
    outputs = packaged.template["Outputs"]
    for name in (
        "ApiEndpoint",
        "ApiKeyId",
        "UsagePlanId",
        "PunchesQueueUrl",
        "DlqUrl",
        "DbSecretArn",
        "DbClusterEndpoint",
    ):
        assert name in outputs, name
    endpoint = json.dumps(outputs["ApiEndpoint"]["Value"])
    for part in ('"https://"', '"Ref": "PunchApi"', ".execute-api.", '"Ref": "PunchApiStage"', "/punches"):
        assert part in endpoint
    assert outputs["ApiKeyId"]["Value"] == ref("ApiKey")
    assert outputs["UsagePlanId"]["Value"] == ref("UsagePlan")  # `ponto device add --usage-plan-id`
    assert outputs["PunchesQueueUrl"]["Value"] == ref("PunchesQueue")
    assert outputs["DlqUrl"]["Value"] == ref("PunchesDlq")
    assert outputs["DbSecretArn"]["Value"] == getatt("DbCluster", "MasterUserSecret.SecretArn")
    assert outputs["DbClusterEndpoint"]["Value"] == getatt("DbCluster", "Endpoint.Address")


# ---------------------------------------------------------------- hardening (issue 11)


@pytest.mark.parametrize("queue", ["PunchesQueue", "PunchesDlq"])
def test_queues_outlive_the_stack(packaged: Packaged, queue: str) -> None:
    resource = packaged.resources[queue]
    assert resource["DeletionPolicy"] == "Retain"
    assert resource["UpdateReplacePolicy"] == "Retain"


def test_queues_refuse_requests_without_tls(packaged: Packaged) -> None:
    _, policy = packaged.one("AWS::SQS::QueuePolicy")
    props = policy["Properties"]
    assert props["Queues"] == [ref("PunchesQueue"), ref("PunchesDlq")]
    (deny,) = statements(props["PolicyDocument"])
    assert deny["Effect"] == "Deny"
    assert deny["Principal"] == "*"
    assert deny["Action"] == "sqs:*"
    assert deny["Resource"] == [getatt("PunchesQueue", "Arn"), getatt("PunchesDlq", "Arn")]
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_api_logs_every_request_and_refuses_old_tls(packaged: Packaged) -> None:
    api = packaged.resources["PunchApi"]["Properties"]
    assert api["SecurityPolicy"] == "SecurityPolicy_TLS13_1_2_2021_06"  # TLS 1.2 and 1.3 only
    assert api["EndpointAccessMode"] == "STRICT"  # required with an enhanced policy
    stage = packaged.resources["PunchApiStage"]
    settings = stage["Properties"]["AccessLogSetting"]
    assert settings["DestinationArn"] == getatt("ApiAccessLogGroup", "Arn")
    line = json.loads(settings["Format"].replace("\n", ""))
    for field in ("requestId", "ip", "apiKeyId", "status", "tls", "integrationStatus", "validationError"):
        assert field in line, field
    (method,) = stage["Properties"]["MethodSettings"]
    assert method["LoggingLevel"] == "ERROR"
    assert method["DataTraceEnabled"] is False  # never log the punches themselves
    log_group = packaged.resources["ApiAccessLogGroup"]["Properties"]
    assert log_group["RetentionInDays"] >= 30
    # API Gateway writes logs with the account's CloudWatch role; the stage waits for that setting.
    account = packaged.resources["ApiGatewayAccount"]
    assert account["Type"] == "AWS::ApiGateway::Account"
    assert account["Properties"]["CloudWatchRoleArn"] == getatt("ApiGatewayCloudWatchRole", "Arn")
    assert "ApiGatewayAccount" in as_list(stage["DependsOn"])
    role = packaged.resources["ApiGatewayCloudWatchRole"]
    assert role["DeletionPolicy"] == "Retain"  # another stage in the account may rely on it
    (trust,) = statements(role["Properties"]["AssumeRolePolicyDocument"])
    assert trust["Principal"] == {"Service": "apigateway.amazonaws.com"}
    (managed,) = role["Properties"]["ManagedPolicyArns"]
    assert managed["Fn::Sub"].endswith("policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs")
    assert "Policies" not in role["Properties"]


def test_waf_is_optional_with_a_rate_rule_and_the_common_rules(packaged: Packaged, sls_config: dict[str, Any]) -> None:
    assert sls_config["params"]["default"]["wafEnabled"] == "false"  # off unless a stage opts in
    parameter = packaged.template["Parameters"]["WafEnabled"]
    assert parameter["Default"] == "false"
    assert packaged.template["Conditions"]["HasWaf"] == {"Fn::Equals": [ref("WafEnabled"), "true"]}
    acl = packaged.resources["ApiWebAcl"]
    assert acl["Condition"] == "HasWaf"
    props = acl["Properties"]
    assert props["Scope"] == "REGIONAL"
    assert props["DefaultAction"] == {"Allow": {}}
    rules = {rule["Name"]: rule for rule in props["Rules"]}
    rate = rules["rate-per-ip"]["Statement"]["RateBasedStatement"]
    assert rate["AggregateKeyType"] == "IP"
    assert rate["Limit"] == sls_config["params"]["default"]["wafRateLimitPerIp"]
    assert rules["rate-per-ip"]["Action"] == {"Block": {}}
    managed = {r["Statement"]["ManagedRuleGroupStatement"]["Name"] for r in rules.values() if "OverrideAction" in r}
    assert "AWSManagedRulesCommonRuleSet" in managed
    association = packaged.resources["ApiWebAclAssociation"]
    assert association["Condition"] == "HasWaf"
    assert association["Properties"]["WebACLArn"] == getatt("ApiWebAcl", "Arn")
    arn = association["Properties"]["ResourceArn"]["Fn::Sub"]
    assert arn.endswith("/restapis/${PunchApi}/stages/${PunchApiStage}")


def test_functions_reach_only_the_database_and_the_secrets_endpoint(packaged: Packaged) -> None:
    group = packaged.resources["LambdaSecurityGroup"]["Properties"]
    (placeholder,) = group["SecurityGroupEgress"]  # replaces the default allow-all rule
    assert placeholder["CidrIp"] == "127.0.0.1/32"
    assert placeholder["IpProtocol"] == "icmp"
    egress = {
        (rule["Properties"]["FromPort"], rule["Properties"]["ToPort"]): rule["Properties"]["DestinationSecurityGroupId"]
        for rule in packaged.of_type("AWS::EC2::SecurityGroupEgress").values()
        if rule["Properties"]["GroupId"] == getatt("LambdaSecurityGroup", "GroupId")
    }
    assert egress == {
        (5432, 5432): getatt("DbSecurityGroup", "GroupId"),
        (443, 443): getatt("EndpointSecurityGroup", "GroupId"),
    }


def test_database_requires_tls_and_a_customer_managed_key(packaged: Packaged, sls_config: dict[str, Any]) -> None:
    cluster = packaged.resources["DbCluster"]["Properties"]
    assert cluster["DBClusterParameterGroupName"] == ref("DbClusterParameterGroup")
    group = packaged.resources["DbClusterParameterGroup"]["Properties"]
    assert group["Parameters"]["rds.force_ssl"] == "1"
    major = str(sls_config["params"]["default"]["dbEngineVersion"]).split(".")[0]
    assert group["Family"] == f"aurora-postgresql{major}"
    assert cluster["KmsKeyId"] == getatt("DbKey", "Arn")
    key = packaged.resources["DbKey"]
    assert key["Type"] == "AWS::KMS::Key"
    assert key["Properties"]["EnableKeyRotation"] is True
    assert key["DeletionPolicy"] == "Retain"  # snapshots and backups outlive the stack
    for statement in statements(key["Properties"]["KeyPolicy"]):
        assert statement["Principal"] != "*"
        assert statement["Principal"] != {"AWS": "*"}
    instance = packaged.resources["DbInstance"]["Properties"]
    assert instance["PerformanceInsightsKMSKeyId"] == getatt("DbKey", "Arn")
    assert cluster["EnableCloudwatchLogsExports"] == ["postgresql"]


def test_clients_can_verify_the_database_certificate(packaged: Packaged, sls_config: dict[str, Any]) -> None:
    defaults = sls_config["params"]["default"]
    assert defaults["dbSslMode"] in ("require", "verify-ca", "verify-full")
    assert packaged.template["Parameters"]["DbCaLayerArn"]["Default"] == defaults["dbCaLayerArn"] == ""
    for function in ("WorkerLambdaFunction", "MigrateLambdaFunction", "ReceiptsLambdaFunction"):
        props = packaged.resources[function]["Properties"]
        env = props["Environment"]["Variables"]
        # With the layer (scripts/build-db-ca-layer), verify-full against the RDS CAs it carries
        assert env["PONTO_DB_SSLMODE"] == {"Fn::If": ["HasDbCaLayer", "verify-full", defaults["dbSslMode"]]}
        assert env["PONTO_DB_SSLROOTCERT"]["Fn::If"][1] == "/opt/rds-ca/global-bundle.pem"
        assert {"Fn::If": ["HasDbCaLayer", {"Ref": "DbCaLayerArn"}, {"Ref": "AWS::NoValue"}]} in props["Layers"]


def test_production_keeps_capacity(sls_config: dict[str, Any], packaged: Packaged) -> None:
    prod = sls_config["params"]["prod"]
    assert float(prod["minAcu"]) >= 0.5, "prod must not auto-pause"
    assert sls_config["params"]["default"]["minAcu"] == 0  # other stages opt in to auto-pause
    assert prod["deletionProtection"] is True


def test_backups_keep_the_legal_record_five_years(packaged: Packaged, sls_config: dict[str, Any]) -> None:
    assert sls_config["params"]["default"]["backupRetentionDays"] == 1825  # 5 years
    (rule,) = packaged.resources["BackupPlan"]["Properties"]["BackupPlan"]["BackupPlanRule"]
    assert rule["Lifecycle"]["DeleteAfterDays"] == 1825
    assert rule["TargetBackupVault"] == ref("BackupVault")
    assert rule["ScheduleExpression"].startswith("cron(")
    vault = packaged.resources["BackupVault"]
    assert vault["DeletionPolicy"] == "Retain"
    assert vault["Properties"]["EncryptionKeyArn"] == getatt("DbKey", "Arn")
    lock = vault["Properties"]["LockConfiguration"]["Fn::If"]
    assert lock == ["HasBackupVaultLock", {"MinRetentionDays": 1825}, ref("AWS::NoValue")]
    assert packaged.template["Parameters"]["BackupVaultLock"]["Default"] == "false"
    selection = packaged.resources["BackupSelection"]["Properties"]
    assert selection["BackupPlanId"] == ref("BackupPlan")
    (resource,) = selection["BackupSelection"]["Resources"]
    assert resource["Fn::Sub"].endswith(":cluster:${DbCluster}")
    role = packaged.resources[selection["BackupSelection"]["IamRoleArn"]["Fn::GetAtt"][0]]["Properties"]
    (trust,) = statements(role["AssumeRolePolicyDocument"])
    assert trust["Principal"] == {"Service": "backup.amazonaws.com"}


def test_alarms_on_the_worker_the_api_and_the_database(packaged: Packaged, sls_config: dict[str, Any]) -> None:
    topic_id, _ = packaged.one("AWS::SNS::Topic")
    expected = {
        "WorkerErrorsAlarm": ("AWS/Lambda", "Errors", [{"Name": "FunctionName", "Value": ref("WorkerLambdaFunction")}]),
        "WorkerThrottlesAlarm": (
            "AWS/Lambda", "Throttles", [{"Name": "FunctionName", "Value": ref("WorkerLambdaFunction")}],
        ),
        "Api5xxAlarm": (
            "AWS/ApiGateway", "5XXError",
            [{"Name": "ApiName", "Value": f"ponto-{STAGE}"}, {"Name": "Stage", "Value": STAGE}],
        ),
        "DbConnectionsAlarm": (
            "AWS/RDS", "DatabaseConnections", [{"Name": "DBClusterIdentifier", "Value": ref("DbCluster")}],
        ),
        "DbCapacityAtMaxAlarm": (
            "AWS/RDS", "ServerlessDatabaseCapacity", [{"Name": "DBClusterIdentifier", "Value": ref("DbCluster")}],
        ),
    }  # fmt: skip
    for name, (namespace, metric, dimensions) in expected.items():
        alarm = packaged.resources[name]["Properties"]
        assert (alarm["Namespace"], alarm["MetricName"], alarm["Dimensions"]) == (namespace, metric, dimensions), name
        assert alarm["AlarmActions"] == [ref(topic_id)], name
        assert alarm["TreatMissingData"] == "notBreaching", name
    assert packaged.resources["PunchApi"]["Properties"]["Name"] == f"ponto-{STAGE}"  # the ApiName dimension
    capacity = packaged.resources["DbCapacityAtMaxAlarm"]["Properties"]
    assert (
        capacity["Threshold"]
        == packaged.resources["DbCluster"]["Properties"]["ServerlessV2ScalingConfiguration"]["MaxCapacity"]
    )
    assert capacity["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    connections = packaged.resources["DbConnectionsAlarm"]["Properties"]
    assert connections["Threshold"] == sls_config["params"]["default"]["dbConnectionsThreshold"]


def test_custom_domain_is_optional_and_tls_1_2(packaged: Packaged, sls_config: dict[str, Any]) -> None:
    assert sls_config["params"]["default"]["apiDomainName"] == ""  # none unless a stage sets one
    assert packaged.template["Parameters"]["ApiDomainName"]["Default"] == ""
    assert packaged.template["Conditions"]["HasApiDomain"] == {"Fn::Not": [{"Fn::Equals": [ref("ApiDomainName"), ""]}]}
    domain = packaged.resources["ApiDomain"]
    assert domain["Condition"] == "HasApiDomain"
    props = domain["Properties"]
    assert props["SecurityPolicy"] == "TLS_1_2"
    assert props["EndpointConfiguration"] == {"Types": ["REGIONAL"]}
    assert props["RegionalCertificateArn"] == ref("ApiCertificateArn")
    mapping = packaged.resources["ApiDomainMapping"]
    assert mapping["Condition"] == "HasApiDomain"
    assert mapping["Properties"] == {
        "DomainName": ref("ApiDomain"),
        "RestApiId": ref("PunchApi"),
        "Stage": ref("PunchApiStage"),
    }
    assert packaged.template["Outputs"]["ApiDomainTarget"]["Condition"] == "HasApiDomain"


def test_personal_routes_are_authorised_by_the_employees_user_pool(packaged: Packaged) -> None:
    body = packaged.resources["PunchApi"]["Properties"]["Body"]
    scheme = body["components"]["securitySchemes"]["cognito"]
    assert scheme["x-amazon-apigateway-authtype"] == "cognito_user_pools"
    assert scheme["x-amazon-apigateway-authorizer"]["providerARNs"] == [{"Fn::GetAtt": ["EmployeePool", "Arn"]}]
    personal = [path for path in body["paths"] if path.startswith("/me/")]
    assert sorted(personal) == ["/me/punches", "/me/punches/{punch_id}/receipt", "/me/receipts"]
    for path in personal:
        for operation in body["paths"][path].values():
            assert operation["security"] == [{"cognito": []}], path
    # Who punches comes from the token, into the message: never from the body
    template = body["paths"]["/me/punches"]["post"]["x-amazon-apigateway-integration"]["requestTemplates"]
    mapping = template["application/json"]
    assert "$context.authorizer.claims['custom:employee_id']" in mapping
    assert "personal%3A$util.urlEncode($context.authorizer.claims['custom:employer'])" in mapping
    pool = packaged.resources["EmployeePool"]
    assert pool["DeletionPolicy"] == "Retain"
    assert pool["Properties"]["AdminCreateUserConfig"] == {"AllowAdminCreateUserOnly": True}
    client = packaged.resources["EmployeePoolClient"]["Properties"]
    assert client["GenerateSecret"] is False
    assert "ALLOW_USER_PASSWORD_AUTH" in client["ExplicitAuthFlows"]


def test_the_web_clock_is_a_private_bucket_behind_cloudfront_with_the_api_on_its_origin(packaged: Packaged) -> None:
    bucket = packaged.resources["ClockBucket"]["Properties"]
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    statements_ = statements(packaged.resources["ClockBucketPolicy"]["Properties"]["PolicyDocument"])
    allowed = [s for s in statements_ if s["Effect"] == "Allow"]
    # Only CloudFront reads it, and only for this distribution
    assert [s["Principal"] for s in allowed] == [{"Service": "cloudfront.amazonaws.com"}]
    assert allowed[0]["Action"] == "s3:GetObject"
    assert "${ClockDistribution}" in allowed[0]["Condition"]["StringEquals"]["AWS:SourceArn"]["Fn::Sub"]
    config = packaged.resources["ClockDistribution"]["Properties"]["DistributionConfig"]
    assert config["DefaultCacheBehavior"]["TargetOriginId"] == "clock"
    assert config["DefaultCacheBehavior"]["ViewerProtocolPolicy"] == "redirect-to-https"
    # Every API path of the contract goes to the API, uncached, with its headers (x-api-key, Authorization)
    api = {b["PathPattern"]: b for b in config["CacheBehaviors"] if b["TargetOriginId"] == "api"}
    body = packaged.resources["PunchApi"]["Properties"]["Body"]
    for path in body["paths"]:
        assert any(fnmatch.fnmatch(path, pattern) for pattern in api), path
    caching_disabled, all_viewer_except_host = (
        "4135ea2d-6df8-44a3-9df3-4b5a84be39ad",
        "b689b0a8-53d0-40ab-baf2-68738e2966ac",
    )
    for behavior in api.values():
        assert behavior["CachePolicyId"] == caching_disabled
        assert behavior["OriginRequestPolicyId"] == all_viewer_except_host
        assert behavior["ViewerProtocolPolicy"] == "https-only"
    custom_domain = config["ViewerCertificate"]["Fn::If"][1]
    assert custom_domain["MinimumProtocolVersion"] == "TLSv1.2_2021"
    assert {"ClockUrl", "ClockBucketName", "ClockDistributionId"} <= set(packaged.template["Outputs"])
