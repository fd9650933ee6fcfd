"""Azure Backup for AKS: scheduled snapshots of every store's volumes, kept in the operational tier.

The pieces, as Azure documents them (https://learn.microsoft.com/azure/backup/azure-kubernetes-service-cluster-backup-using-cli,
and the role list of https://learn.microsoft.com/azure/backup/azure-kubernetes-service-cluster-backup-concept):

- a backup vault with a system-assigned identity;
- the storage account off the internet, reached from the nodes through a private endpoint in the stack's VNet
  (`privatelink.blob.core.windows.net`), trusted Azure services (the vault) let through;
- the backup extension (`microsoft.dataprotection.kubernetes`) on the cluster, writing to a blob container of
  its own storage account (Standard general-purpose v2, same region, one container per cluster);
- trusted access: the vault may act on the cluster as `Microsoft.DataProtection/backupVaults/backup-operator`;
- a snapshot resource group where the disk snapshots live, and the role assignments: the extension's identity
  `Storage Blob Data Contributor` on the storage account; the vault's identity `Reader` on the cluster, `Reader`,
  `Disk Snapshot Contributor` and `Data Operator for Managed Disks` on the snapshot group and `Storage Blob Data
  Contributor` on the storage account; the cluster's identity `Contributor` on the snapshot group;
- a backup policy (daily or weekly, retention as configured) and one backup instance for the cluster that selects
  the stores by label: pods labelled `aks-microservices.io/store=true` (every StatefulStore's pods, and the
  InnoDBCluster's through its `podLabels`). The backup engine (Velero) backs up a selected pod's claims and their
  volumes with it (vmware-tanzu/velero, pkg/backup/actions/pod_action.go), so each store's claims come along.

Azure Files volumes (ReadWriteMany, e.g. Fibonacci's shared Redis claim) are not snapshotted by AKS backup
(its support matrix): their claim and volume objects are in the backup, their data is not (see README).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

import pulumi
from pulumi_azure_native import (
    authorization,
    containerservice,
    dataprotection,
    kubernetesconfiguration,
    resources,
    storage,
)

from components.labels import STORE_LABEL
from infra.network import StackNetwork
from infra.private_link import PrivateLink
from infra.registry import role_definition_id
from settings.platform import BackupSettings

# Built-in role definition ids (the same in every tenant).
READER_ROLE = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
CONTRIBUTOR_ROLE = "b24988ac-6180-42a0-ab88-20f7382dd24c"
STORAGE_BLOB_DATA_CONTRIBUTOR_ROLE = "ba92f5b4-2d11-453d-a403-e96b0029c9fe"
DISK_SNAPSHOT_CONTRIBUTOR_ROLE = "7efff54f-a5b4-42b5-a1c5-5411624893ce"
DATA_OPERATOR_FOR_MANAGED_DISKS_ROLE = "959f8984-c045-4866-89c7-12bf9737be2e"
BACKUP_EXTENSION_TYPE = "microsoft.dataprotection.kubernetes"
TRUSTED_ACCESS_ROLE = "Microsoft.DataProtection/backupVaults/backup-operator"
AKS_DATASOURCE_TYPE = "Microsoft.ContainerService/managedClusters"
BACKUP_CONTAINER = "aks-backup"
BLOB_GROUP_ID = "blob"
BLOB_DNS_ZONE = "privatelink.blob.core.windows.net"
# Backups start at 02:00 UTC; an ISO 8601 repeating interval, as the backup policy API takes it.
SCHEDULE_START = "2025-01-01T02:00:00+00:00"
FREQUENCIES = {"daily": "P1D", "weekly": "P1W"}


def repeating_interval(frequency: str) -> str:
    return f"R/{SCHEDULE_START}/{FREQUENCIES[frequency]}"


class ClusterBackup(pulumi.ComponentResource):
    """Backups of the stores of one AKS cluster. Children are named `<name>-<piece>`."""

    vault: dataprotection.BackupVault
    policy: dataprotection.BackupPolicy
    instance: dataprotection.BackupInstance

    def __init__(self, name: str, *, settings: BackupSettings, cluster: containerservice.ManagedCluster,
                 resource_group_name: pulumi.Input[str], resource_group_id: pulumi.Output[str], location: str,
                 tags: Mapping[str, str], subscription_id: pulumi.Input[str], tenant_id: pulumi.Input[str],
                 network: StackNetwork, opts: pulumi.ResourceOptions | None = None):
        super().__init__("aks-microservices:infra:ClusterBackup", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        tags = dict(tags)

        def role(resource_name: str, role_id: str, principal_id: pulumi.Input[str], scope: pulumi.Input[str],
                 why: str, after: list[pulumi.Resource] | None = None) -> authorization.RoleAssignment:
            return authorization.RoleAssignment(
                f"{name}-{resource_name}",
                principal_id=principal_id,
                principal_type="ServicePrincipal",
                role_definition_id=role_definition_id(subscription_id, role_id),
                scope=scope,
                description=why,
                opts=pulumi.ResourceOptions(parent=self, depends_on=after or []),
            )

        self.vault = dataprotection.BackupVault(
            f"{name}-vault",
            resource_group_name=resource_group_name,
            location=location,
            identity=dataprotection.DppIdentityDetailsArgs(type="SystemAssigned"),
            properties=dataprotection.BackupVaultArgs(
                storage_settings=[dataprotection.StorageSettingArgs(datastore_type="VaultStore", type="LocallyRedundant")],
                # Deleted backups stay recoverable for 14 days.
                security_settings=dataprotection.SecuritySettingsArgs(
                    soft_delete_settings=dataprotection.SoftDeleteSettingsArgs(state="On", retention_duration_in_days=14),
                ),
            ),
            tags=tags,
            opts=child,
        )
        vault_principal = self.vault.identity.apply(lambda identity: identity.principal_id)
        cluster_principal = cluster.identity.apply(lambda identity: identity.principal_id)

        # Storage account names are global, 3-24 lowercase letters and digits: derived from the resource group.
        account_name = resource_group_id.apply(
            lambda rg_id: "aksbackup" + hashlib.sha256(rg_id.lower().encode()).hexdigest()[:12]
        )
        self.storage_account = storage.StorageAccount(
            f"{name}-storage",
            account_name=account_name,
            resource_group_name=resource_group_name,
            location=location,
            kind="StorageV2",
            # Geo- and zone-redundant: neither a zone nor a region outage takes the backups' metadata with it.
            sku=storage.SkuArgs(name="Standard_GZRS"),
            allow_blob_public_access=False,
            # Off the internet: the extension writes from the nodes through the private endpoint below, with its
            # Entra ID identity; trusted Azure services (the backup vault) are let through.
            network_rule_set=storage.NetworkRuleSetArgs(default_action="Deny", bypass="AzureServices"),
            minimum_tls_version="TLS1_2",
            enable_https_traffic_only=True,
            tags=tags,
            opts=child,
        )
        container = storage.BlobContainer(
            f"{name}-container",
            container_name=BACKUP_CONTAINER,
            account_name=self.storage_account.name,
            resource_group_name=resource_group_name,
            public_access="None",
            opts=child,
        )
        # The account's blob endpoint resolves to its private address inside the stack's VNet.
        self.private_link = PrivateLink(
            f"{name}-storage-link",
            network.private_link_args(target_id=self.storage_account.id, group_id=BLOB_GROUP_ID,
                                      dns_zone_name=BLOB_DNS_ZONE),
            opts=child,
        )
        self.snapshot_group = resources.ResourceGroup(
            f"{name}-snapshots",
            resource_group_name=pulumi.Output.concat(resource_group_name, "-backup-snapshots"),
            location=location,
            tags=tags,
            opts=child,
        )
        self.extension = kubernetesconfiguration.Extension(
            f"{name}-extension",
            extension_name="azure-aks-backup",
            extension_type=BACKUP_EXTENSION_TYPE,
            cluster_rp="Microsoft.ContainerService",
            cluster_resource_name="managedClusters",
            cluster_name=cluster.name,
            resource_group_name=resource_group_name,
            release_train="stable",
            auto_upgrade_minor_version=True,
            # The backup storage location the extension writes to (the keys of its Helm values).
            configuration_settings={
                "configuration.backupStorageLocation.bucket": container.name,
                "configuration.backupStorageLocation.config.resourceGroup": resource_group_name,
                "configuration.backupStorageLocation.config.storageAccount": self.storage_account.name,
                "configuration.backupStorageLocation.config.subscriptionId": subscription_id,
                "credentials.tenantId": tenant_id,
            },
            # Its pods write to the account as soon as they run: only once the name resolves privately.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.private_link.dns_zone_group]),
        )
        extension_principal = self.extension.aks_assigned_identity.apply(
            lambda identity: identity.principal_id if identity else None
        )
        self.trusted_access = containerservice.TrustedAccessRoleBinding(
            f"{name}-trusted-access",
            trusted_access_role_binding_name="backup-vault",
            resource_group_name=resource_group_name,
            resource_name_=cluster.name,
            source_resource_id=self.vault.id,
            roles=[TRUSTED_ACCESS_ROLE],
            opts=child,
        )
        snapshot_group_id = self.snapshot_group.id
        grants = [
            role("extension-blob-contributor", STORAGE_BLOB_DATA_CONTRIBUTOR_ROLE, extension_principal,
                 self.storage_account.id, "The AKS backup extension writes backups to its blob container."),
            role("vault-cluster-reader", READER_ROLE, vault_principal, cluster.id,
                 "The backup vault reads the cluster it backs up."),
            role("vault-snapshots-reader", READER_ROLE, vault_principal, snapshot_group_id,
                 "The backup vault reads the snapshot resource group."),
            role("vault-snapshot-contributor", DISK_SNAPSHOT_CONTRIBUTOR_ROLE, vault_principal, snapshot_group_id,
                 "The backup vault manages the disk snapshots."),
            role("vault-disk-data-operator", DATA_OPERATOR_FOR_MANAGED_DISKS_ROLE, vault_principal,
                 snapshot_group_id, "The backup vault reads snapshot data for the vault tier."),
            role("vault-blob-contributor", STORAGE_BLOB_DATA_CONTRIBUTOR_ROLE, vault_principal,
                 self.storage_account.id, "The backup vault reads the extension's backups."),
            role("cluster-snapshots-contributor", CONTRIBUTOR_ROLE, cluster_principal, snapshot_group_id,
                 "The cluster's CSI driver creates and restores disk snapshots in the snapshot group."),
        ]

        operational = dataprotection.DataStoreInfoBaseArgs(data_store_type="OperationalStore",
                                                           object_type="DataStoreInfoBase")
        self.policy = dataprotection.BackupPolicy(
            f"{name}-policy",
            backup_policy_name=f"aks-stores-{settings.frequency}",
            resource_group_name=resource_group_name,
            vault_name=self.vault.name,
            properties=dataprotection.BackupPolicyArgs(
                object_type="BackupPolicy",
                datasource_types=[AKS_DATASOURCE_TYPE],
                policy_rules=[
                    dataprotection.AzureBackupRuleArgs(
                        name=f"Backup{settings.frequency.capitalize()}",
                        object_type="AzureBackupRule",
                        backup_parameters=dataprotection.AzureBackupParamsArgs(
                            backup_type="Incremental", object_type="AzureBackupParams"),
                        data_store=operational,
                        trigger=dataprotection.ScheduleBasedTriggerContextArgs(
                            object_type="ScheduleBasedTriggerContext",
                            schedule=dataprotection.BackupScheduleArgs(
                                repeating_time_intervals=[repeating_interval(settings.frequency)], time_zone="UTC"),
                            tagging_criteria=[dataprotection.TaggingCriteriaArgs(
                                is_default=True, tagging_priority=99,
                                tag_info=dataprotection.RetentionTagArgs(tag_name="Default"))],
                        ),
                    ),
                    dataprotection.AzureRetentionRuleArgs(
                        name="Default",
                        object_type="AzureRetentionRule",
                        is_default=True,
                        lifecycles=[dataprotection.SourceLifeCycleArgs(
                            source_data_store=operational,
                            delete_after=dataprotection.AbsoluteDeleteOptionArgs(
                                duration=f"P{settings.retention_in_days}D", object_type="AbsoluteDeleteOption"),
                            target_data_store_copy_settings=[],
                        )],
                    ),
                ],
            ),
            opts=child,
        )
        datasource = {
            "resource_id": cluster.id,
            "resource_name": cluster.name,
            "resource_location": location,
            "resource_type": AKS_DATASOURCE_TYPE,
            "resource_uri": cluster.id,
            "datasource_type": AKS_DATASOURCE_TYPE,
            "object_type": "Datasource",
        }
        self.instance = dataprotection.BackupInstance(
            f"{name}-instance",
            backup_instance_name="aks-stores",
            resource_group_name=resource_group_name,
            vault_name=self.vault.name,
            properties=dataprotection.BackupInstanceArgs(
                object_type="BackupInstance",
                friendly_name="aks-stores",
                data_source_info=dataprotection.DatasourceArgs(**datasource),
                data_source_set_info=dataprotection.DatasourceSetArgs(**{**datasource, "object_type": "DatasourceSet"}),
                policy_info=dataprotection.PolicyInfoArgs(
                    policy_id=self.policy.id,
                    policy_parameters=dataprotection.PolicyParametersArgs(
                        backup_datasource_parameters_list=[
                            dataprotection.KubernetesClusterBackupDatasourceParametersArgs(
                                object_type="KubernetesClusterBackupDatasourceParameters",
                                # The stores' pods; their claims and volumes come with them.
                                label_selectors=[f"{STORE_LABEL}=true"],
                                snapshot_volumes=True,
                                # Persistent volumes are cluster-scoped: the selected claims' volumes are needed.
                                include_cluster_scope_resources=True,
                            )
                        ],
                        data_store_parameters_list=[
                            dataprotection.AzureOperationalStoreParametersArgs(
                                data_store_type="OperationalStore",
                                object_type="AzureOperationalStoreParameters",
                                resource_group_id=snapshot_group_id,
                            )
                        ],
                    ),
                ),
            ),
            tags=tags,
            # Protection starts only once the extension, trusted access and every role are in place.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.extension, self.trusted_access, *grants]),
        )
        self.register_outputs({"backupVaultName": self.vault.name})
