"""What an on-call engineer sees: control-plane logs, managed Prometheus metrics and the AKS recommended alerts.

- Control-plane resource logs go to the stack's Log Analytics workspace through a diagnostic setting on the
  cluster (categories: https://learn.microsoft.com/azure/aks/monitor-aks-reference#resource-logs).
- Azure Monitor managed Prometheus: an Azure Monitor workspace, a data collection endpoint and rule (the
  `Microsoft-PrometheusMetrics` stream into the workspace), both associated with the cluster, and the cluster's
  `azureMonitorProfile.metrics` (set in aks.py), as the ARM/Bicep onboarding template does
  (https://learn.microsoft.com/azure/azure-monitor/containers/kubernetes-monitoring-enable-arm).
- Alerts: the AKS recommended Prometheus alert rules (https://aka.ms/aks-alerts/cluster-level-recommended-alerts,
  https://aka.ms/aks-alerts/pod-level-recommended-alerts; expressions as Azure publishes them) as
  PrometheusRuleGroups, each rule sending to one action group whose email receivers are settings.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
from pulumi_azure_native import alertsmanagement, monitor

from settings.platform import MonitoringSettings

CONTROL_PLANE_LOG_CATEGORIES = ("kube-audit-admin", "guard", "kube-controller-manager", "cluster-autoscaler")
PROMETHEUS_STREAM = "Microsoft-PrometheusMetrics"


@dataclass(frozen=True)
class AlertRule:
    alert: str
    expression: str
    for_: str
    severity: int
    description: str


# Node level: node-exporter metrics (in managed Prometheus' default minimal ingestion profile). Azure's recommended
# AKS metric alerts watch node CPU above 95% and node memory working set; these are their Prometheus form.
NODE_RULES = (
    AlertRule(
        "KubeNodeCPUUsageHigh",
        '(1 - avg by (cluster, instance) (rate(node_cpu_seconds_total{job="node", mode="idle"}[5m]))) > 0.95',
        "PT5M", 3, "Node {{ $labels.instance }} in {{ $labels.cluster }} uses more than 95% of its CPU.",
    ),
    AlertRule(
        "KubeNodeMemoryUsageHigh",
        '(1 - node_memory_MemAvailable_bytes{job="node"} / node_memory_MemTotal_bytes{job="node"}) > 0.95',
        "PT5M", 3, "Node {{ $labels.instance }} in {{ $labels.cluster }} uses more than 95% of its memory.",
    ),
    AlertRule(
        "KubeNodeUnreachable",
        '(kube_node_spec_taint{job="kube-state-metrics",key="node.kubernetes.io/unreachable",effect="NoSchedule"}'
        ' unless ignoring(key,value) kube_node_spec_taint{job="kube-state-metrics",'
        'key=~"ToBeDeletedByClusterAutoscaler|cloud.google.com/imminent-node-termination|'
        'aws-node-termination-handler/spot-itn"} == 1)',
        "PT15M", 3, "{{ $labels.node }} in {{ $labels.cluster }} is unreachable.",
    ),
)
# Pod level: kube-state-metrics and kubelet metrics, Azure's recommended expressions.
POD_RULES = (
    AlertRule(
        "KubePodContainerRestart",
        'sum by (namespace, controller, container, cluster) (increase(kube_pod_container_status_restarts_total'
        '{job="kube-state-metrics"}[1h]) * on(namespace, pod, cluster) group_left(controller) '
        'label_replace(kube_pod_owner, "controller", "$1", "owner_name", "(.*)")) > 0',
        "PT15M", 4, "Pod container restarted in the last hour.",
    ),
    AlertRule(
        "KubePodCrashLooping",
        'max_over_time(kube_pod_container_status_waiting_reason{reason="CrashLoopBackOff", '
        'job="kube-state-metrics"}[5m]) >= 1',
        "PT15M", 4, "{{ $labels.namespace }}/{{ $labels.pod }} ({{ $labels.container }}) is crash looping.",
    ),
    AlertRule(
        "KubeContainerOOMKilledCount",
        'sum by (cluster,container,controller,namespace) (kube_pod_container_status_last_terminated_reason'
        '{reason="OOMKilled"} * on(cluster,namespace,pod) group_left(controller) '
        'label_replace(kube_pod_owner, "controller", "$1", "owner_name", "(.*)")) > 0',
        "PT5M", 4, "Number of OOM killed containers is greater than 0.",
    ),
    AlertRule(
        "KubePVUsageHigh",
        'avg by (namespace, controller, container, cluster) ((kubelet_volume_stats_used_bytes{job="kubelet"} / '
        'on(namespace, cluster, pod, container) group_left kubelet_volume_stats_capacity_bytes{job="kubelet"}) '
        '* on(namespace, pod, cluster) group_left(controller) '
        'label_replace(kube_pod_owner, "controller", "$1", "owner_name", "(.*)")) > 0.8',
        "PT15M", 3, "Average PV usage of {{ $labels.controller }} in {{ $labels.namespace }} is above 80%.",
    ),
    AlertRule(
        "KubeDeploymentReplicasMismatch",
        '(kube_deployment_spec_replicas{job="kube-state-metrics"} > '
        'kube_deployment_status_replicas_available{job="kube-state-metrics"}) and '
        '(changes(kube_deployment_status_replicas_updated{job="kube-state-metrics"}[10m]) == 0)',
        "PT15M", 4, "Deployment {{ $labels.namespace }}/{{ $labels.deployment }} has unavailable replicas.",
    ),
    AlertRule(
        "KubeStatefulSetReplicasMismatch",
        '(kube_statefulset_status_replicas_ready{job="kube-state-metrics"} != '
        'kube_statefulset_status_replicas{job="kube-state-metrics"}) and '
        '(changes(kube_statefulset_status_replicas_updated{job="kube-state-metrics"}[10m]) == 0)',
        "PT15M", 4, "StatefulSet {{ $labels.namespace }}/{{ $labels.statefulset }} has unready replicas.",
    ),
)
RULE_GROUPS = {"node": NODE_RULES, "pod": POD_RULES}


def _short_name(name: str) -> str:
    # Action group short names are at most 12 characters (shown in emails and SMS).
    return name[:12]


class ClusterSignals(pulumi.ComponentResource):
    """The cluster's control-plane logs, its Prometheus metrics and their alerts, per `MonitoringSettings`.

    Children: `<name>-control-plane-logs` (diagnostic setting), `<name>-prometheus` (Azure Monitor workspace),
    `<name>-prometheus-endpoint`/`-rule`/`-rule-association`/`-endpoint-association`, `<name>-action-group`
    and `<name>-alerts-<group>` (PrometheusRuleGroup)."""

    monitor_workspace: monitor.AzureMonitorWorkspace | None
    action_group: monitor.ActionGroup | None

    def __init__(self, name: str, *, monitoring: MonitoringSettings, cluster_id: pulumi.Input[str],
                 cluster_name: pulumi.Input[str], workspace_id: pulumi.Input[str] | None,
                 resource_group_name: pulumi.Input[str], location: str, tags: Mapping[str, str],
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("aks-microservices:infra:ClusterSignals", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        tags = dict(tags)
        self.diagnostic_setting = None
        if monitoring.control_plane_logs:
            self.diagnostic_setting = monitor.DiagnosticSetting(
                f"{name}-control-plane-logs",
                name="control-plane-logs",
                resource_uri=cluster_id,
                workspace_id=workspace_id,
                # Resource-specific tables (AKSAudit, AKSControlPlane...) rather than the shared AzureDiagnostics.
                log_analytics_destination_type="Dedicated",
                logs=[monitor.DiagnosticsLogSettingsArgs(category=category, enabled=True)
                      for category in CONTROL_PLANE_LOG_CATEGORIES],
                opts=child,
            )

        self.monitor_workspace = None
        if monitoring.prometheus:
            self.monitor_workspace = monitor.AzureMonitorWorkspace(
                f"{name}-prometheus", resource_group_name=resource_group_name, location=location, tags=tags,
                opts=child,
            )
            endpoint = monitor.DataCollectionEndpoint(
                f"{name}-prometheus-endpoint",
                resource_group_name=resource_group_name,
                location=location,
                kind="Linux",
                description="Managed Prometheus ingestion of the stack's cluster.",
                tags=tags,
                opts=child,
            )
            rule = monitor.DataCollectionRule(
                f"{name}-prometheus-rule",
                resource_group_name=resource_group_name,
                location=location,
                kind="Linux",
                description="Managed Prometheus: the cluster's metrics to the Azure Monitor workspace.",
                data_collection_endpoint_id=endpoint.id,
                data_sources=monitor.DataCollectionRuleDataSourcesArgs(
                    prometheus_forwarder=[monitor.PrometheusForwarderDataSourceArgs(
                        name="PrometheusDataSource", streams=[PROMETHEUS_STREAM])]
                ),
                destinations=monitor.DataCollectionRuleDestinationsArgs(
                    monitoring_accounts=[monitor.MonitoringAccountDestinationArgs(
                        name="MonitoringAccount1", account_resource_id=self.monitor_workspace.id)]
                ),
                data_flows=[monitor.DataFlowArgs(streams=[PROMETHEUS_STREAM], destinations=["MonitoringAccount1"])],
                tags=tags,
                opts=child,
            )
            monitor.DataCollectionRuleAssociation(
                f"{name}-prometheus-rule-association",
                association_name="MSProm-rule",
                resource_uri=cluster_id,
                data_collection_rule_id=rule.id,
                description="Managed Prometheus of the stack's cluster.",
                opts=child,
            )
            # The metrics agent reads its configuration through the endpoint associated under this name.
            monitor.DataCollectionRuleAssociation(
                f"{name}-prometheus-endpoint-association",
                association_name="configurationAccessEndpoint",
                resource_uri=cluster_id,
                data_collection_endpoint_id=endpoint.id,
                description="Managed Prometheus configuration endpoint of the stack's cluster.",
                opts=child,
            )

        self.action_group = None
        self.rule_groups: dict[str, alertsmanagement.PrometheusRuleGroup] = {}
        if monitoring.alerts and self.monitor_workspace is not None:
            self.action_group = monitor.ActionGroup(
                f"{name}-action-group",
                resource_group_name=resource_group_name,
                location="global",
                group_short_name=_short_name("aks-oncall"),
                enabled=True,
                email_receivers=[
                    monitor.MicrosoftCommonEmailReceiverArgs(name=f"oncall-{i}", email_address=email,
                                                             use_common_alert_schema=True)
                    for i, email in enumerate(monitoring.alert_emails)
                ],
                tags=tags,
                opts=child,
            )
            for group, rules in RULE_GROUPS.items():
                self.rule_groups[group] = alertsmanagement.PrometheusRuleGroup(
                    f"{name}-alerts-{group}",
                    resource_group_name=resource_group_name,
                    location=location,
                    cluster_name=cluster_name,
                    description=f"AKS recommended Prometheus alerts ({group} level).",
                    enabled=True,
                    interval="PT1M",
                    scopes=[self.monitor_workspace.id, cluster_id],
                    rules=[
                        alertsmanagement.PrometheusRuleArgs(
                            alert=rule.alert,
                            expression=rule.expression,
                            for_=rule.for_,
                            severity=rule.severity,
                            enabled=True,
                            annotations={"description": rule.description},
                            labels={"alert_name": rule.alert},
                            actions=[alertsmanagement.PrometheusRuleGroupActionArgs(
                                action_group_id=self.action_group.id)],
                            resolve_configuration=alertsmanagement.PrometheusRuleResolveConfigurationArgs(
                                auto_resolved=True, time_to_resolve="PT10M"),
                        )
                        for rule in rules
                    ],
                    tags=tags,
                    opts=child,
                )
        self.register_outputs({})
