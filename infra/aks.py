"""`platform: aks`: resource group, monitoring, AKS cluster, registry, StorageClasses and the Kubernetes provider."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import pulumi
import pulumi_kubernetes as k8s
from pulumi_azure_native import authorization, containerservice, monitor, operationalinsights, resources

from infra.backup import ClusterBackup
from infra.images import DeclaredImages, cache_rules
from infra.keyvault import KeyVaultAppSecrets, StackKeyVault
from infra.kubeconfig import decode_kubeconfig
from infra.network import StackNetwork
from infra.platform import AppSecrets, Platform, SecretShape, kubernetes_secrets
from infra.registry import ContainerRegistry, role_definition_id
from infra.signals import ClusterSignals
from infra.storage import per_replica_storage_class, shared_storage_class
from settings import StackSettings
from settings.platform import ClusterSettings, IngressSettings, MonitoringSettings

# The ingress class of the app-routing add-on's managed nginx, and the namespace its controller pods run in.
APP_ROUTING_INGRESS_CLASS = "webapprouting.kubernetes.azure.com"
APP_ROUTING_NAMESPACE = "app-routing-system"
# Taint that keeps workloads off the system pool once a user pool exists.
SYSTEM_POOL_TAINT = "CriticalAddonsOnly=true:NoSchedule"
AKS_RBAC_CLUSTER_ADMIN_ROLE = "b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b"
NETWORK_CONTRIBUTOR_ROLE = "4d97b98b-1d4f-4787-a291-c67834d212e7"
CONTAINER_INSIGHTS_STREAM = "Microsoft-ContainerInsights-Group-Default"


def _dns_prefix(settings: StackSettings) -> str:
    base = settings.platform.cluster.name or f"{pulumi.get_project()}-{pulumi.get_stack()}"
    prefix = re.sub(r"[^a-zA-Z0-9-]+", "-", base)[:54].strip("-")
    return prefix or "aks"


class AksPlatform(pulumi.ComponentResource):
    """Everything Azure: one `pulumi up` stands up the cluster the apps run on."""

    def __init__(
        self, name: str, settings: StackSettings, images: frozenset[str], opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("aks-microservices:infra:AksPlatform", name, None, opts)
        platform = settings.platform
        cluster_settings = platform.cluster
        child = pulumi.ResourceOptions(parent=self)
        location = platform.azure.location
        tags = {**platform.azure.tags, "project": pulumi.get_project(), "stack": pulumi.get_stack()}

        self.resource_group = resources.ResourceGroup(
            f"{name}-resource-group",
            resource_group_name=platform.azure.resource_group_name,
            location=location,
            tags=tags,
            opts=child,
        )
        rg_name = self.resource_group.name

        self.network = StackNetwork(
            f"{name}-network",
            settings=platform.network,
            resource_group_name=rg_name,
            location=location,
            tags=tags,
            opts=child,
        )
        node_subnet_id = self.network.node_subnet.id

        self.workspace = None
        data_collection_rule = None
        if platform.monitoring.container_insights:
            self.workspace, data_collection_rule = self._container_insights(name, platform.monitoring, location, tags)

        self.cluster = containerservice.ManagedCluster(
            f"{name}-cluster",
            resource_name_=cluster_settings.name,
            resource_group_name=rg_name,
            location=location,
            tags=tags,
            dns_prefix=_dns_prefix(settings),
            # AKS takes a minor version ("1.33") and runs its latest patch.
            kubernetes_version=settings.kubernetes_version,
            sku=containerservice.ManagedClusterSKUArgs(name="Base", tier=cluster_settings.sku_tier),
            identity=containerservice.ManagedClusterIdentityArgs(type=containerservice.ResourceIdentityType.SYSTEM_ASSIGNED),
            enable_rbac=True,
            agent_pool_profiles=[_system_pool(cluster_settings, node_subnet_id)],
            network_profile=containerservice.ContainerServiceNetworkProfileArgs(
                # Azure CNI overlay: pods get addresses from a private overlay range, not from the VNet.
                network_plugin="azure",
                network_plugin_mode="overlay",
                pod_cidr=platform.network.pod_cidr,
                service_cidr=platform.network.service_cidr,
                dns_service_ip=platform.network.dns_service_ip,
                # Cilium (eBPF) dataplane enforces NetworkPolicies.
                network_dataplane="cilium",
                network_policy="cilium",
                load_balancer_sku="standard",
            ),
            oidc_issuer_profile=containerservice.ManagedClusterOIDCIssuerProfileArgs(enabled=True),
            api_server_access_profile=_api_server_access(cluster_settings),
            security_profile=_security_profile(cluster_settings, self.workspace),
            ingress_profile=_app_routing(platform.ingress),
            addon_profiles=_addons(cluster_settings, self.workspace),
            # Managed Prometheus scrapes the cluster (its data collection rule is associated below).
            azure_monitor_profile=containerservice.ManagedClusterAzureMonitorProfileArgs(
                metrics=containerservice.ManagedClusterAzureMonitorProfileMetricsArgs(enabled=True)
            ) if platform.monitoring.prometheus else None,
            # The disk CSI driver and the snapshot controller, which Azure Backup for AKS snapshots volumes with
            # (on by default; stated so that backups never lose them).
            storage_profile=containerservice.ManagedClusterStorageProfileArgs(
                disk_csi_driver=containerservice.ManagedClusterStorageProfileDiskCSIDriverArgs(enabled=True),
                file_csi_driver=containerservice.ManagedClusterStorageProfileFileCSIDriverArgs(enabled=True),
                snapshot_controller=containerservice.ManagedClusterStorageProfileSnapshotControllerArgs(enabled=True),
            ),
            auto_upgrade_profile=containerservice.ManagedClusterAutoUpgradeProfileArgs(
                upgrade_channel=cluster_settings.upgrade_channel,
                node_os_upgrade_channel=cluster_settings.node_os_upgrade_channel,
            ),
            aad_profile=_entra_id(cluster_settings),
            disable_local_accounts=cluster_settings.disable_local_accounts,
            opts=pulumi.ResourceOptions(
                parent=self,
                # Deleting the cluster deletes its node resource group with every disk in it.
                protect=settings.data_protection,
                ignore_changes=_cluster_ignore_changes(cluster_settings),
            ),
        )

        if data_collection_rule is not None:
            # AKS's monitoring agent collects per the rule associated under this well-known name.
            monitor.DataCollectionRuleAssociation(
                f"{name}-container-insights-association",
                association_name="ContainerInsightsExtension",
                resource_uri=self.cluster.id,
                data_collection_rule_id=data_collection_rule.id,
                description="Container Insights of the stack's cluster.",
                opts=child,
            )

        self.signals = ClusterSignals(
            f"{name}-signals",
            monitoring=platform.monitoring,
            cluster_id=self.cluster.id,
            cluster_name=self.cluster.name,
            workspace_id=self.workspace.id if self.workspace is not None else None,
            resource_group_name=rg_name,
            location=location,
            tags=tags,
            opts=child,
        )

        self.user_pool = None
        if cluster_settings.user_pool.enabled:
            self.user_pool = self._user_pool(name, cluster_settings, node_subnet_id, tags)

        client = authorization.get_client_config_output(opts=pulumi.InvokeOutputOptions(parent=self))
        # The cluster's identity manages load balancers and node NICs in the stack's VNet (BYO VNet).
        self.network_access = authorization.RoleAssignment(
            f"{name}-cluster-network-contributor",
            principal_id=self.cluster.identity.apply(lambda identity: identity.principal_id),
            principal_type=authorization.PrincipalType.SERVICE_PRINCIPAL,
            role_definition_id=role_definition_id(client.subscription_id, NETWORK_CONTRIBUTOR_ROLE),
            scope=self.network.virtual_network.id,
            description="AKS manages load balancers and node interfaces in the stack's VNet.",
            opts=child,
        )
        self.client = client
        self.location = location
        self.tags = tags
        self.key_vault = None
        if platform.key_vault.enabled:
            self.key_vault = StackKeyVault(
                f"{name}-key-vault",
                settings=platform.key_vault,
                resource_group_name=rg_name,
                resource_group_id=self.resource_group.id,
                location=location,
                tags=tags,
                tenant_id=client.tenant_id,
                protect=settings.data_protection,
                network=self.network,
                opts=child,
            )
        cluster_access: list[pulumi.Resource] = []
        if cluster_settings.azure_rbac:
            # Azure RBAC authorizes the Kubernetes API: the identity running `pulumi up` needs a role on it.
            cluster_access.append(
                authorization.RoleAssignment(
                    f"{name}-deployer-cluster-admin",
                    principal_id=client.object_id,
                    role_definition_id=role_definition_id(client.subscription_id, AKS_RBAC_CLUSTER_ADMIN_ROLE),
                    scope=self.cluster.id,
                    description="The identity that deploys the stack manages its Kubernetes objects.",
                    opts=child,
                )
            )

        self.backup = None
        if platform.backup.enabled:
            self.backup = ClusterBackup(
                f"{name}-backup",
                settings=platform.backup,
                cluster=self.cluster,
                resource_group_name=rg_name,
                resource_group_id=self.resource_group.id,
                location=location,
                tags=tags,
                subscription_id=client.subscription_id,
                tenant_id=client.tenant_id,
                network=self.network,
                opts=child,
            )

        kubelet_object_id = self.cluster.identity_profile.apply(
            lambda profile: profile["kubeletidentity"].object_id
        )
        self.rules = cache_rules(images) if platform.registry.cache_images else {}
        self.registry = ContainerRegistry(
            f"{name}-registry",
            settings=platform.registry,
            resource_group_name=rg_name,
            resource_group_id=self.resource_group.id,
            location=location,
            tags=tags,
            kubelet_object_id=kubelet_object_id,
            subscription_id=client.subscription_id,
            rules=self.rules,
            network=self.network,
            opts=child,
        )

        credentials = containerservice.list_managed_cluster_user_credentials_output(
            resource_group_name=rg_name,
            resource_name=self.cluster.name,
            # Entra ID clusters: an exec kubeconfig (kubelogin) instead of the legacy auth provider.
            format="exec" if cluster_settings.entra_id else None,
            opts=pulumi.InvokeOutputOptions(parent=self),
        )
        self.kubeconfig = pulumi.Output.secret(
            credentials.apply(lambda result: decode_kubeconfig(result.kubeconfigs[0].value, cluster_settings.entra_id))
        )
        self.provider = k8s.Provider(
            f"{name}-kubernetes",
            kubeconfig=self.kubeconfig,
            opts=pulumi.ResourceOptions(
                parent=self,
                # Workloads need a schedulable pool, and the deployer its API access, before anything is applied.
                depends_on=[*([self.user_pool] if self.user_pool else []), *cluster_access],
            ),
        )
        on_cluster = pulumi.ResourceOptions(parent=self, provider=self.provider)
        self.per_replica_storage_class = per_replica_storage_class(name, platform.storage, on_cluster)
        self.shared_storage_class = shared_storage_class(name, platform.storage, on_cluster)

        self.oidc_issuer_url = self.cluster.oidc_issuer_profile.apply(lambda profile: profile.issuer_url if profile else None)
        self.register_outputs(
            {
                "clusterName": self.cluster.name,
                "registryLoginServer": self.registry.registry.login_server,
            }
        )

    def _container_insights(self, name: str, monitoring: MonitoringSettings, location: str, tags: dict[str, str]):
        child = pulumi.ResourceOptions(parent=self)
        workspace = operationalinsights.Workspace(
            f"{name}-logs",
            resource_group_name=self.resource_group.name,
            location=location,
            sku=operationalinsights.WorkspaceSkuArgs(name="PerGB2018"),
            retention_in_days=monitoring.retention_in_days,
            tags=tags,
            opts=child,
        )
        rule = monitor.DataCollectionRule(
            f"{name}-container-insights",
            resource_group_name=self.resource_group.name,
            location=location,
            kind="Linux",
            description="Container Insights: container logs, inventory and performance to the stack's workspace.",
            data_sources=monitor.DataCollectionRuleDataSourcesArgs(
                extensions=[
                    monitor.ExtensionDataSourceArgs(
                        name="ContainerInsightsExtension",
                        extension_name="ContainerInsights",
                        streams=[CONTAINER_INSIGHTS_STREAM],
                        extension_settings={
                            "dataCollectionSettings": {
                                "interval": "1m",
                                "namespaceFilteringMode": "Off",
                                "enableContainerLogV2": True,
                            }
                        },
                    )
                ]
            ),
            destinations=monitor.DataCollectionRuleDestinationsArgs(
                log_analytics=[monitor.LogAnalyticsDestinationArgs(name="workspace", workspace_resource_id=workspace.id)]
            ),
            data_flows=[monitor.DataFlowArgs(streams=[CONTAINER_INSIGHTS_STREAM], destinations=["workspace"])],
            tags=tags,
            opts=child,
        )
        return workspace, rule

    def _user_pool(
        self, name: str, cluster: ClusterSettings, subnet_id: pulumi.Input[str], tags: dict[str, str]
    ) -> containerservice.AgentPool:
        # A separate AgentPool resource: AKS refuses to add pools through the cluster's own profile list.
        pool = cluster.user_pool
        return containerservice.AgentPool(
            f"{name}-user-pool",
            agent_pool_name="user",
            resource_group_name=self.resource_group.name,
            resource_name_=self.cluster.name,
            mode=containerservice.AgentPoolMode.USER,
            os_type="Linux",
            os_sku="AzureLinux",
            vm_size=pool.vm_size,
            count=max(pool.min_count, 1),
            enable_auto_scaling=True,
            min_count=pool.min_count,
            max_count=pool.max_count,
            availability_zones=list(cluster.zones) or None,
            vnet_subnet_id=subnet_id,
            **_node_hardening(cluster, pool.os_disk_type, pool.os_disk_size_gb),
            node_labels={"aks-microservices/pool": "user"},
            tags=tags,
            # The autoscaler owns the node count after creation.
            opts=pulumi.ResourceOptions(parent=self, ignore_changes=["count"]),
        )


def _system_pool(
    cluster: ClusterSettings, subnet_id: pulumi.Input[str]
) -> containerservice.ManagedClusterAgentPoolProfileArgs:
    system = cluster.system_pool
    return containerservice.ManagedClusterAgentPoolProfileArgs(
        name="system",
        mode=containerservice.AgentPoolMode.SYSTEM,
        os_type="Linux",
        os_sku="AzureLinux",
        type="VirtualMachineScaleSets",
        vm_size=system.vm_size,
        count=cluster.node_count,
        enable_auto_scaling=cluster.system_autoscaled,
        min_count=system.min_count,
        max_count=system.max_count,
        availability_zones=list(cluster.zones) or None,
        vnet_subnet_id=subnet_id,
        **_node_hardening(cluster, system.os_disk_type, system.os_disk_size_gb),
        # With a user pool for workloads, the system pool keeps to critical add-ons (CoreDNS, metrics, CSI).
        node_taints=[SYSTEM_POOL_TAINT] if cluster.user_pool.enabled else None,
    )


def _node_hardening(cluster: ClusterSettings, os_disk_type: str, os_disk_size_gb: int) -> dict:
    """Pool arguments shared by both pools: host encryption, OS disk and an explicit pod density."""
    return {
        "enable_encryption_at_host": cluster.encryption_at_host,
        "os_disk_type": os_disk_type,
        "os_disk_size_gb": os_disk_size_gb,
        "max_pods": cluster.max_pods,
    }


def _api_server_access(cluster: ClusterSettings) -> containerservice.ManagedClusterAPIServerAccessProfileArgs:
    if cluster.private_cluster:
        # The API server gets a private address in the node subnet; AKS keeps its DNS record in a private
        # zone it manages ("system") and links to the cluster's VNet.
        return containerservice.ManagedClusterAPIServerAccessProfileArgs(
            enable_private_cluster=True, private_dns_zone="system", enable_private_cluster_public_fqdn=False
        )
    return containerservice.ManagedClusterAPIServerAccessProfileArgs(
        enable_private_cluster=False, authorized_ip_ranges=list(cluster.authorized_ip_ranges) or None
    )


def _security_profile(
    cluster: ClusterSettings, workspace: operationalinsights.Workspace | None
) -> containerservice.ManagedClusterSecurityProfileArgs:
    defender = None
    if cluster.defender and workspace is not None:
        # Defender for Containers' sensor (a DaemonSet) sends its findings to the stack's workspace.
        defender = containerservice.ManagedClusterSecurityProfileDefenderArgs(
            log_analytics_workspace_resource_id=workspace.id,
            security_monitoring=containerservice.ManagedClusterSecurityProfileDefenderSecurityMonitoringArgs(enabled=True),
        )
    interval = cluster.image_cleaner_interval_hours
    return containerservice.ManagedClusterSecurityProfileArgs(
        workload_identity=containerservice.ManagedClusterSecurityProfileWorkloadIdentityArgs(enabled=True),
        defender=defender,
        image_cleaner=containerservice.ManagedClusterSecurityProfileImageCleanerArgs(
            enabled=interval is not None, interval_hours=interval
        ),
    )


def _cluster_ignore_changes(cluster: ClusterSettings) -> list[str]:
    ignored = []
    if cluster.system_autoscaled:
        ignored.append("agentPoolProfiles[0].count")  # the autoscaler owns it
    if cluster.upgrade_channel in ("stable", "rapid"):
        ignored.append("kubernetesVersion")  # the channel moves the minor version on its own
    return ignored


def _app_routing(ingress: IngressSettings) -> containerservice.ManagedClusterIngressProfileArgs:
    return containerservice.ManagedClusterIngressProfileArgs(
        web_app_routing=containerservice.ManagedClusterIngressProfileWebAppRoutingArgs(
            enabled=True,
            dns_zone_resource_ids=list(ingress.dns_zone_resource_ids) or None,
            nginx=containerservice.ManagedClusterIngressProfileNginxArgs(
                default_ingress_controller_type=ingress.controller_exposure
            ),
        )
    )


def _addons(
    cluster: ClusterSettings, workspace: operationalinsights.Workspace | None
) -> dict[str, containerservice.ManagedClusterAddonProfileArgs]:
    addons = {
        # Secrets Store CSI driver with the Azure Key Vault provider; rotation picks up new secret versions.
        "azureKeyvaultSecretsProvider": containerservice.ManagedClusterAddonProfileArgs(
            enabled=True,
            config={"enableSecretRotation": "true", "rotationPollInterval": "2m"},
        )
    }
    if cluster.azure_policy:
        # Azure Policy for Kubernetes (Gatekeeper), reporting compliance with the policies assigned to the cluster.
        addons["azurepolicy"] = containerservice.ManagedClusterAddonProfileArgs(enabled=True)
    if workspace is not None:
        # The Container Insights agent, authenticating with its managed identity (no workspace key).
        addons["omsagent"] = containerservice.ManagedClusterAddonProfileArgs(
            enabled=True,
            config={"logAnalyticsWorkspaceResourceID": workspace.id, "useAADAuth": "true"},
        )
    return addons


def _entra_id(cluster: ClusterSettings) -> containerservice.ManagedClusterAADProfileArgs | None:
    if not cluster.entra_id:
        return None
    return containerservice.ManagedClusterAADProfileArgs(
        managed=True,
        enable_azure_rbac=cluster.azure_rbac,
        admin_group_object_ids=list(cluster.admin_group_object_ids) or None,
    )


def build_aks_platform(settings: StackSettings, images: frozenset[str]) -> Platform:
    aks = AksPlatform("aks", settings, images)
    declared = DeclaredImages.of(images)
    login_server = aks.registry.registry.login_server
    cache_rules_by_upstream = aks.registry.cache_rules
    acr_pull = aks.registry.acr_pull
    private_link = aks.registry.private_link
    # With a private endpoint, nodes reach the registry once its DNS records exist.
    pull_path = [private_link.dns_zone_group.id] if private_link is not None else []

    def image(reference: str) -> pulumi.Input[str]:
        ref = declared.require(reference)
        rule = cache_rules_by_upstream.get(ref.upstream)
        if rule is None:  # caching off, or an upstream ACR cannot cache: pulled from its registry
            return reference
        # Depends on the rule, on AcrPull and on the private endpoint's DNS, so no pod pulls before all exist.
        return pulumi.Output.all(login_server, rule.target_repository, acr_pull.id, *pull_path).apply(
            lambda values: f"{values[0]}/{values[1]}{ref.version}"
        )

    outputs: dict[str, pulumi.Input] = {
        "platform": "aks",
        "resourceGroupName": aks.resource_group.name,
        "clusterName": aks.cluster.name,
        "clusterId": aks.cluster.id,
        "kubeconfig": aks.kubeconfig,
        "registryName": aks.registry.registry.name,
        "registryLoginServer": login_server,
        "oidcIssuerUrl": aks.oidc_issuer_url,
    }
    if aks.workspace is not None:
        outputs["logAnalyticsWorkspaceId"] = aks.workspace.id
    if aks.signals.monitor_workspace is not None:
        outputs["azureMonitorWorkspaceId"] = aks.signals.monitor_workspace.id
    if aks.backup is not None:
        outputs["backupVaultName"] = aks.backup.vault.name
    app_secrets = kubernetes_secrets
    if aks.key_vault is not None:
        vault = aks.key_vault
        outputs["keyVaultName"] = vault.vault_name
        outputs["keyVaultUri"] = vault.vault.properties.vault_uri

        def app_secrets(app: str, namespace: str, *, secrets: Mapping[str, SecretShape], readers: Sequence[str],
                        opts: pulumi.ResourceOptions) -> AppSecrets:
            return KeyVaultAppSecrets(
                f"{app}-key-vault", app=app, namespace=namespace, secrets=secrets, readers=readers, vault=vault,
                oidc_issuer_url=aks.oidc_issuer_url, resource_group_name=aks.resource_group.name,
                location=aks.location, tags=aks.tags, subscription_id=aks.client.subscription_id, opts=opts,
            )
    return Platform(
        kind="aks",
        provider=aks.provider,
        per_replica_storage_class=aks.per_replica_storage_class.metadata.name,
        shared_storage_class=aks.shared_storage_class.metadata.name,
        ingress_class=APP_ROUTING_INGRESS_CLASS,
        ingress_controller_namespace=APP_ROUTING_NAMESPACE,
        external_service_type="LoadBalancer",
        image=image,
        outputs=outputs,
        registry_login_server=login_server,
        oidc_issuer_url=aks.oidc_issuer_url,
        app_secrets=app_secrets,
    )
