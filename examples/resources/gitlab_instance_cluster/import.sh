# Import with the cluster's numeric id: instance clusters have no owner to name.
terraform import gitlab_instance_cluster.shared 12
