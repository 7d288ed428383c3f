# Quickstart: two clusters in group "qa" of the local GitLab simulator, read back through
# the data sources. run.sh starts the simulator and points the provider at it.
terraform {
  required_providers {
    gitlab = {
      source = "gitlab-rs/gitlab"
    }
  }
}

variable "gitlab_url" {
  type = string
}

variable "gitlab_token" {
  type      = string
  sensitive = true
}

# run.sh sets it for Terraform >= 1.11: the staging token is then write-only (never in state).
variable "write_only" {
  type    = bool
  default = false
}

provider "gitlab" {
  base_url = var.gitlab_url
  token    = var.gitlab_token
}

resource "gitlab_group_cluster" "staging" {
  group              = "qa"
  name               = "staging"
  environment_scope  = "staging/*"
  kubernetes_api_url = "https://k8s-staging.example.com:6443"
  kubernetes_token   = var.write_only ? null : "quickstart-service-account-token"
  kubernetes_ca_cert = file("${path.module}/ca.crt")
  domain             = "staging.example.com"

  # Terraform / OpenTofu >= 1.11: sent to GitLab, never stored; bump the version to rotate.
  kubernetes_token_wo         = var.write_only ? "quickstart-service-account-token-wo" : null
  kubernetes_token_wo_version = var.write_only ? 1 : null
}

resource "gitlab_group_cluster" "production" {
  group                 = "qa"
  name                  = "production"
  environment_scope     = "production"
  kubernetes_api_url    = "https://k8s-production.example.com:6443"
  kubernetes_token      = "quickstart-service-account-token-2"
  kubernetes_ca_cert    = file("${path.module}/ca.crt")
  management_project_id = "7"
}

data "gitlab_group_clusters" "qa" {
  group      = "qa"
  depends_on = [gitlab_group_cluster.staging, gitlab_group_cluster.production]
}

output "staging_id" {
  value = gitlab_group_cluster.staging.id
}

output "production_cluster_id" {
  value = gitlab_group_cluster.production.cluster_id
}

output "qa_clusters" {
  value = { for c in data.gitlab_group_clusters.qa.clusters : c.name => c.environment_scope }
}
