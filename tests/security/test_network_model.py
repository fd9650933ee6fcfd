"""The NetworkPolicy model the isolation tests rely on, checked against the semantics the API documents."""

from network_model import NetworkModel, Party

WEB = Party("shop/web", "shop", labels={"app": "web"}, ports=frozenset({(8080, "TCP")}), named_ports={"http": 8080})
DB = Party("shop/db", "shop", labels={"app": "db"}, ports=frozenset({(5432, "TCP")}))
OTHER = Party("other/client", "other", labels={"app": "client"})
WORLD = Party("outside", None, address="198.51.100.7")


def policy(name, namespace="shop", selector=None, types=None, ingress=None, egress=None):
    spec = {"podSelector": selector if selector is not None else {}}
    if types is not None:
        spec["policyTypes"] = types
    if ingress is not None:
        spec["ingress"] = ingress
    if egress is not None:
        spec["egress"] = egress
    return {"kind": "NetworkPolicy", "metadata": {"name": name, "namespace": namespace}, "spec": spec}


DENY = policy("deny", types=["Ingress", "Egress"])


def test_pods_no_policy_selects_are_open_both_ways():
    assert NetworkModel([]).allows(WEB, DB, 5432)
    assert NetworkModel([]).allows(OTHER, WEB, 1)


def test_a_default_deny_isolates_every_pod_of_its_namespace_only():
    model = NetworkModel([DENY])
    assert not model.allows(WEB, DB, 5432)
    assert not model.allows(OTHER, WEB, 8080)
    assert model.allows(OTHER, OTHER, 1)


def test_traffic_needs_the_senders_egress_and_the_receivers_ingress():
    egress = policy("web-out", selector={"matchLabels": {"app": "web"}}, types=["Egress"],
                    egress=[{"to": [{"podSelector": {"matchLabels": {"app": "db"}}}], "ports": [{"port": 5432}]}])
    ingress = policy("db-in", selector={"matchLabels": {"app": "db"}}, types=["Ingress"],
                     ingress=[{"from": [{"podSelector": {"matchLabels": {"app": "web"}}}],
                               "ports": [{"port": 5432, "protocol": "TCP"}]}])
    assert not NetworkModel([DENY, egress]).allows(WEB, DB, 5432)
    assert not NetworkModel([DENY, ingress]).allows(WEB, DB, 5432)
    both = NetworkModel([DENY, egress, ingress])
    assert both.allows(WEB, DB, 5432)
    assert not both.allows(WEB, DB, 5433)
    assert not both.allows(WEB, DB, 5432, "UDP")
    assert not both.allows(DB, WEB, 8080)


def test_a_rule_without_ports_allows_every_port_and_without_peers_every_peer():
    model = NetworkModel([policy("open-web", selector={"matchLabels": {"app": "web"}}, ingress=[{}])])
    assert model.allows(OTHER, WEB, 1)
    assert model.allows(WORLD, WEB, 65000)


def test_a_pod_selector_alone_means_the_policys_own_namespace():
    model = NetworkModel([policy("web-in", selector={"matchLabels": {"app": "web"}},
                                 ingress=[{"from": [{"podSelector": {}}]}])])
    assert model.allows(DB, WEB, 8080)
    assert not model.allows(OTHER, WEB, 8080)


def test_a_namespace_selector_matches_on_the_automatic_name_label_and_combines_with_pods():
    peer = {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "other"}},
            "podSelector": {"matchLabels": {"app": "client"}}}
    model = NetworkModel([policy("web-in", selector={"matchLabels": {"app": "web"}}, ingress=[{"from": [peer]}])])
    assert model.allows(OTHER, WEB, 8080)
    assert not model.allows(DB, WEB, 8080)
    stranger = Party("other/x", "other", labels={"app": "x"})
    assert not model.allows(stranger, WEB, 8080)


def test_an_ip_block_matches_addresses_outside_the_pod_network_only():
    model = NetworkModel([policy("web-in", selector={"matchLabels": {"app": "web"}},
                                 ingress=[{"from": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": ["198.51.100.0/24"]}}]},
                                          {"from": [{"ipBlock": {"cidr": "203.0.113.0/24"}}]}])])
    assert not model.allows(WORLD, WEB, 8080)  # excepted
    assert model.allows(Party("elsewhere", None, address="203.0.113.9"), WEB, 8080)
    assert not model.allows(OTHER, WEB, 8080)


def test_named_ports_resolve_on_the_receiving_pod_and_end_port_makes_a_range():
    model = NetworkModel([policy("web-in", selector={"matchLabels": {"app": "web"}},
                                 ingress=[{"ports": [{"port": "http"}, {"port": 9000, "endPort": 9002}]}])])
    assert model.allows(OTHER, WEB, 8080)
    assert model.allows(OTHER, WEB, 9001)
    assert not model.allows(OTHER, WEB, 9003)


def test_policy_types_default_to_ingress_plus_egress_when_egress_rules_exist():
    model = NetworkModel([policy("web", selector={"matchLabels": {"app": "web"}}, ingress=[])])
    assert not model.allows(OTHER, WEB, 8080)
    assert model.allows(WEB, OTHER, 1)  # not isolated for egress
    model = NetworkModel([policy("web", selector={"matchLabels": {"app": "web"}},
                                 egress=[{"to": [{"podSelector": {"matchLabels": {"app": "db"}}}]}])])
    assert not model.allows(WEB, OTHER, 1)


def test_match_expressions_select_as_the_api_says():
    selector = {"matchExpressions": [{"key": "app", "operator": "In", "values": ["web", "db"]},
                                     {"key": "tier", "operator": "DoesNotExist"}]}
    model = NetworkModel([policy("sel", selector=selector, types=["Ingress"])])
    cache = Party("shop/cache", "shop", labels={"app": "web", "tier": "cache"})
    mail = Party("shop/mail", "shop", labels={"app": "mail"})
    assert [p.name for p in (WEB, DB, cache, mail, OTHER) if model.selecting(p, "Ingress")] == ["shop/web", "shop/db"]
