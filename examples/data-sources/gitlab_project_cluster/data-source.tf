# The project's cluster for review apps: by environment scope (unique within a project).
# `cluster_id`, or `name`, select a cluster too.
data "gitlab_project_cluster" "review" {
  project           = "platform/web-shop" # or the project's numeric id
  environment_scope = "review/*"
}

output "review_cluster" {
  value = {
    id      = data.gitlab_project_cluster.review.cluster_id
    api_url = data.gitlab_project_cluster.review.kubernetes_api_url
  }
}
