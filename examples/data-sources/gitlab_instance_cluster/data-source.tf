# Instance clusters are for administrators: the provider's token must be an administrator's.

# By id
data "gitlab_instance_cluster" "by_id" {
  cluster_id = 12
}

# By name (it must match exactly one cluster of the instance)
data "gitlab_instance_cluster" "shared" {
  name = "shared"
}

output "shared_api_url" {
  value = data.gitlab_instance_cluster.shared.kubernetes_api_url
}
