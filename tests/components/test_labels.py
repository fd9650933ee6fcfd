from components import recommended_labels, selector_labels


def test_recommended_labels_are_the_five_app_kubernetes_io_labels_managed_by_pulumi():
    assert recommended_labels("data-api", "smilr", "api", "smilr") == {
        "app.kubernetes.io/name": "data-api",
        "app.kubernetes.io/instance": "smilr",
        "app.kubernetes.io/component": "api",
        "app.kubernetes.io/part-of": "smilr",
        "app.kubernetes.io/managed-by": "pulumi",
    }


def test_selector_labels_keep_only_name_and_instance_because_selectors_are_immutable():
    assert selector_labels("data-api", "smilr") == {
        "app.kubernetes.io/name": "data-api",
        "app.kubernetes.io/instance": "smilr",
    }


def test_selector_labels_are_a_subset_of_the_recommended_labels():
    selector = selector_labels("redis-statefulset", "fib")
    labels = recommended_labels("redis-statefulset", "fib", "cache", "fib")
    assert selector.items() <= labels.items()
