from offline.validate import apply_defaults, validate_object

DEPLOYMENT = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "web", "namespace": "demo"},
    "spec": {
        "selector": {"matchLabels": {"app": "web"}},
        "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]}},
    },
}


def _with(obj: dict, path: list, value) -> dict:
    import copy

    out = copy.deepcopy(obj)
    node = out
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return out


def test_a_valid_deployment_has_no_problems():
    assert validate_object(DEPLOYMENT, "1.33") == []


def test_unknown_fields_are_errors_with_their_path():
    bad = _with(DEPLOYMENT, ["spec", "template", "spec", "containers", 0, "imagePullPolicyy"], "Always")
    problems = validate_object(bad, "1.33")
    assert problems == [
        "spec.template.spec.containers.0: Additional properties are not allowed ('imagePullPolicyy' was unexpected)"
    ]


def test_wrong_types_are_errors():
    bad = _with(DEPLOYMENT, ["spec", "replicas"], "three")
    assert any(p.startswith("spec.replicas:") for p in validate_object(bad, "1.33"))


def test_objects_without_an_explicit_name_or_namespace_are_errors():
    bad = _with(DEPLOYMENT, ["metadata"], {})
    problems = validate_object(bad, "1.33")
    assert "metadata.name must be set explicitly (object names are part of the contract)" in problems
    assert "metadata.namespace must be set on a namespaced kind" in problems


def test_cluster_scoped_kinds_must_not_carry_a_namespace():
    problems = validate_object({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a", "namespace": "b"}}, "1.33")
    assert problems == ["metadata.namespace must not be set on cluster-scoped Namespace"]


def test_custom_resources_are_checked_strictly_against_their_crd():
    route = {
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "HTTPRoute",
        "metadata": {"name": "web", "namespace": "demo"},
        "spec": {"parentRefs": [{"name": "gw"}], "rules": [{"backendRefs": [{"name": "web", "port": 80}]}]},
    }
    assert validate_object(route, "1.33") == []
    bad = _with(route, ["spec", "rules", 0, "backendRef"], [])
    assert validate_object(bad, "1.33") == [
        "spec.rules.0: Additional properties are not allowed ('backendRef' was unexpected)"
    ]


def test_crd_defaults_are_applied_before_validation():
    schema = {
        "type": "object",
        "properties": {"spec": {"type": "object", "properties": {"kind": {"type": "string", "default": "Gateway"}}}},
    }
    assert apply_defaults({"spec": {}}, schema) == {"spec": {"kind": "Gateway"}}


def test_innodbcluster_is_validated_against_the_mysql_operator_crd():
    cluster = {
        "apiVersion": "mysql.oracle.com/v2",
        "kind": "InnoDBCluster",
        "metadata": {"name": "db", "namespace": "demo"},
        "spec": {"secretName": "pwd", "instances": 3, "router": {"instances": 1}, "tlsUseSelfSigned": True},
    }
    assert validate_object(cluster, "1.33") == []
    assert validate_object(_with(cluster, ["spec", "instances"], 0), "1.33") != []


def test_secret_provider_class_is_validated_against_the_secrets_store_csi_driver_crd():
    # offline/schemas/crds/secrets-store-csi-driver-v1.6.0.json (kubernetes-sigs/secrets-store-csi-driver v1.6.0)
    spc = {
        "apiVersion": "secrets-store.csi.x-k8s.io/v1",
        "kind": "SecretProviderClass",
        "metadata": {"name": "kv", "namespace": "demo"},
        "spec": {
            "provider": "azure",
            "parameters": {"keyvaultName": "kv1", "objects": "array: []"},
            "secretObjects": [{"secretName": "pwd", "type": "Opaque", "data": [{"objectName": "a", "key": "A"}]}],
        },
    }
    assert validate_object(spc, "1.33") == []
    assert validate_object(_with(spc, ["spec", "parameters", "usePodIdentity"], False), "1.33") == [
        "spec.parameters.usePodIdentity: False is not of type 'string'"  # the CRD's parameters are strings
    ]
    assert validate_object(_with(spc, ["spec", "secretObjects", 0, "name"], "pwd"), "1.33") == [
        "spec.secretObjects.0: Additional properties are not allowed ('name' was unexpected)"
    ]


def test_kinds_without_a_schema_are_reported():
    problems = validate_object({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w", "namespace": "d"}}, "1.33")
    assert problems and "no schema for example.com/v1 Widget" in problems[0]
