"""Drives gitlab-sim's Project clusters API with python-gitlab (its ProjectClusterManager), and
the Instance clusters API through python-gitlab's raw HTTP helpers (it has no manager for them):
projects found by URL-encoded path in a group and in a user namespace, create, paged listing,
get, update, delete, and the errors python-gitlab raises from GitLab's bodies.

Environment: GITLAB_SIM_URL (base URL).
"""

import os
import sys
import warnings

import gitlab
from gitlab import exceptions as exc

URL = os.environ["GITLAB_SIM_URL"]
ADMIN = "sim-admin-token"
MAINTAINER = "sim-maintainer-token"
DEVELOPER = "sim-developer-token"
TIMEOUT = 30

checks = 0


def check(cond, what):
    global checks
    if not cond:
        raise AssertionError(what)
    checks += 1


def expect(exc_type, fn, code, message):
    try:
        fn()
    except exc_type as e:
        check(e.response_code == code, f"{exc_type.__name__}: code {e.response_code} != {code}")
        check(e.error_message == message, f"{exc_type.__name__}: message {e.error_message!r} != {message!r}")
        return e
    raise AssertionError(f"expected {exc_type.__name__}")


def pk(**kw):
    return dict({"api_url": "https://kubernetes.example.com", "token": "secret"}, **kw)


def main():
    warnings.simplefilter("error")
    gl = gitlab.Gitlab(URL, private_token=MAINTAINER, retry_transient_errors=False, timeout=TIMEOUT)

    # A group's project, by its full path (python-gitlab URL-encodes it).
    project = gl.projects.get("qa/cluster-management", lazy=True)
    first = project.clusters.create({
        "name": "py-project", "environment_scope": "py/0", "management_project_id": 7,
        "platform_kubernetes_attributes": pk(namespace="py-ns"),
    })
    check(first.cluster_type == "project_type", "cluster_type")
    check(first.project["id"] == 7, "project on create")
    check(first.project["namespace"]["kind"] == "group", "the project's namespace is a group")
    check(first.platform_kubernetes["namespace"] == "py-ns", "a managed project cluster keeps its namespace")
    ids = [first.id]
    for i in range(1, 3):
        ids.append(project.clusters.create({
            "name": f"py-{i}", "environment_scope": f"py/{i}", "platform_kubernetes_attributes": pk()}).id)
    listing = project.clusters.list(per_page=2, iterator=True)
    check([c.id for c in listing] == ids, "paged through Link")
    check(listing.total == 3, "X-Total")
    fetched = project.clusters.get(first.id)
    fetched.domain = "apps.example.com"
    fetched.save()
    check(project.clusters.get(first.id).domain == "apps.example.com", "updated")
    expect(exc.GitlabCreateError, lambda: project.clusters.create({
        "name": "dup", "environment_scope": "py/1", "platform_kubernetes_attributes": pk()}),
        400, {"environment_scope": ["cannot add duplicated environment scope"]})
    expect(exc.GitlabCreateError, lambda: project.clusters.create({
        "name": "sub", "environment_scope": "py/sub", "management_project_id": 9,
        "platform_kubernetes_attributes": pk()}),
        400, {"management_project_id": ["Project does not exist or you don't have permission to perform this action"]})
    dev = gitlab.Gitlab(URL, private_token=DEVELOPER, timeout=TIMEOUT)
    dev_project = dev.projects.get("qa/cluster-management", lazy=True)
    check(len(dev_project.clusters.list(get_all=True)) == 3, "developers read")
    expect(exc.GitlabCreateError, lambda: dev_project.clusters.create({
        "name": "dev", "environment_scope": "py/dev", "platform_kubernetes_attributes": pk()}),
        403, "403 Forbidden")
    expect(exc.GitlabListError, lambda: gl.projects.get(8, lazy=True).clusters.list(get_all=True),
           404, "404 Project Not Found")
    for cid in ids:
        project.clusters.delete(cid)
    check(project.clusters.list(get_all=True) == [], "all deleted")

    # A project in the maintainer's own namespace.
    sandbox = gl.projects.get("maintainer/sandbox", lazy=True)
    mine = sandbox.clusters.create({"name": "mine", "platform_kubernetes_attributes": pk()})
    check(mine.project["name_with_namespace"] == "Mia Maintainer / Sandbox", "user namespace project")
    check(mine.project["namespace"]["kind"] == "user", "user namespace kind")
    mine.delete()

    # Instance clusters: administrators only.
    admin = gitlab.Gitlab(URL, private_token=ADMIN, timeout=TIMEOUT)
    made = admin.http_post("/admin/clusters/add", post_data={
        "name": "py-instance", "environment_scope": "py/*", "platform_kubernetes_attributes": pk()})
    check(made["cluster_type"] == "instance_type", "instance cluster")
    check("project" not in made and "group" not in made, "Entities::Cluster on create")
    updated = admin.http_put(f"/admin/clusters/{made['id']}", post_data={"domain": "shared.example.com"})
    check(updated["project"] is None, "Entities::ClusterProject on update")
    listed = admin.http_list("/admin/clusters", get_all=True)
    check([c["id"] for c in listed] == [made["id"]], "instance list")
    expect(exc.GitlabHttpError, lambda: gl.http_get("/admin/clusters"), 403, "403 Forbidden")
    admin.http_delete(f"/admin/clusters/{made['id']}")
    expect(exc.GitlabHttpError, lambda: admin.http_get(f"/admin/clusters/{made['id']}"), 404, "404 Not found")

    print(f"python-gitlab {gitlab.__version__}: {checks} checks passed")


if __name__ == "__main__":
    try:
        main()
    except AssertionError as e:
        print(f"FAILED: {e}", file=sys.stderr)
        sys.exit(1)
