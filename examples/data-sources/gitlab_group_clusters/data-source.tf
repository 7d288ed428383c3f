data "gitlab_group_clusters" "all" {
  group = "platform/infra"
}

output "cluster_scopes" {
  value = { for c in data.gitlab_group_clusters.all.clusters : c.name => c.environment_scope }
}
