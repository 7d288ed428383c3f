# By id
data "gitlab_group_cluster" "by_id" {
  group      = "platform/infra"
  cluster_id = 7
}

# By environment scope (unique within a group)
data "gitlab_group_cluster" "production" {
  group             = "platform/infra"
  environment_scope = "production"
}

output "production_api_url" {
  value = data.gitlab_group_cluster.production.kubernetes_api_url
}
