# Import with <group>:<cluster_id>; the group is its numeric id or full path.
terraform import gitlab_group_cluster.staging 42:7
terraform import gitlab_group_cluster.staging platform/infra:7
