resource "gitlab_group_cluster" "staging" {
  group                         = "platform/infra"
  name                          = "staging"
  environment_scope             = "staging/*"
  kubernetes_api_url            = "https://k8s-staging.example.com:6443"
  kubernetes_token              = var.kubernetes_token
  kubernetes_ca_cert            = file("${path.module}/staging-ca.crt")
  kubernetes_authorization_type = "rbac"
  domain                        = "staging.example.com"
  management_project_id         = "123"
}

variable "kubernetes_token" {
  type      = string
  sensitive = true
}
