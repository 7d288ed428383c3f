resource "gitlab_project_cluster" "review" {
  project               = "platform/web-shop" # or the project's numeric id
  name                  = "review-apps"
  environment_scope     = "review/*"
  kubernetes_api_url    = "https://k8s-review.example.com:6443"
  kubernetes_token      = var.kubernetes_token
  kubernetes_ca_cert    = var.kubernetes_ca_cert
  domain                = "review.example.com"
  management_project_id = "123" # a project of the same namespace (here the group platform)
}

variable "kubernetes_token" {
  type      = string
  sensitive = true
}

variable "kubernetes_ca_cert" {
  type        = string
  description = "The PEM CA certificate of the cluster's API server."
}
