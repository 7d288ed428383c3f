data "gitlab_project_clusters" "all" {
  project = "platform/web-shop"
}

output "project_cluster_scopes" {
  value = { for c in data.gitlab_project_clusters.all.clusters : c.name => c.environment_scope }
}
