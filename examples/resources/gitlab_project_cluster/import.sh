# Import with <project>:<cluster_id>; the project is its numeric id or full path.
terraform import gitlab_project_cluster.review 1234:9
terraform import gitlab_project_cluster.review platform/web-shop:9
