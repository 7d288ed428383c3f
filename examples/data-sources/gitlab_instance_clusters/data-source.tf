# Instance clusters are for administrators: the provider's token must be an administrator's.
data "gitlab_instance_clusters" "all" {}

output "instance_cluster_scopes" {
  value = { for c in data.gitlab_instance_clusters.all.clusters : c.name => c.environment_scope }
}
