"""Drives gitlab-sim with python-gitlab, a third-party GitLab client, and checks that what it
reads back is what GitLab would answer: create (with management project and CA certificate),
paged listing through the Link header, get, update, delete, and the exception classes and
messages python-gitlab derives from GitLab's error bodies.

Environment: GITLAB_SIM_URL (base URL), GITLAB_SIM_CA_PEM (a PEM certificate to store).
"""

import os
import sys
import warnings

import gitlab
from gitlab import exceptions as exc

URL = os.environ["GITLAB_SIM_URL"]
CA_PEM = os.environ["GITLAB_SIM_CA_PEM"]
MAINTAINER = "sim-maintainer-token"
DEVELOPER = "sim-developer-token"
# Seconds any one request may take (python-gitlab waits forever by default).
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


def main():
    # Any warning (e.g. "base URL in the server response differs") is a fidelity bug.
    warnings.simplefilter("error")
    gl = gitlab.Gitlab(URL, private_token=MAINTAINER, retry_transient_errors=False, timeout=TIMEOUT)
    gl.auth()
    check(gl.user.username == "maintainer", "GET /user is the token's user")
    check(gl.user.id == 2, "user id")

    group = gl.groups.get(42, lazy=True)
    pk = lambda **kw: dict({"api_url": "https://kubernetes.example.com", "token": "secret"}, **kw)

    first = group.clusters.create({
        "name": "py-cluster",
        "environment_scope": "py/0",
        "domain": "apps.example.com",
        "management_project_id": 7,
        "managed": False,
        "platform_kubernetes_attributes": pk(ca_cert="\n" + CA_PEM + "\n", namespace="py-ns", authorization_type="abac"),
    })
    check(isinstance(first.id, int), "created id")
    check(first.name == "py-cluster", "created name")
    check(first.provider_type == "user" and first.platform_type == "kubernetes", "types")
    check(first.cluster_type == "group_type", "cluster_type")
    check(first.platform_kubernetes["ca_cert"] == CA_PEM.strip(), "ca_cert stored stripped")
    check(first.platform_kubernetes["namespace"] == "py-ns", "namespace")
    check(first.platform_kubernetes["authorization_type"] == "abac", "authorization_type")
    check("token" not in first.platform_kubernetes, "token never returned")
    check(first.management_project["id"] == 7, "management project")
    check(first.management_project["path_with_namespace"] == "qa/cluster-management", "management project path")
    check(first.group["id"] == 42 and first.group["name"] == "QA", "group on create")
    check(first.user["username"] == "maintainer", "creator")
    check(first.namespace_per_environment is True, "namespace_per_environment default")

    ids = [first.id]
    for i in range(1, 5):
        c = group.clusters.create({"name": f"py-{i}", "environment_scope": f"py/{i}",
                                   "platform_kubernetes_attributes": pk()})
        ids.append(c.id)

    # Paging: python-gitlab follows the Link header (rel="next") across pages.
    listing = group.clusters.list(per_page=2, iterator=True)
    got = [c.id for c in listing]
    check(got == sorted(ids), f"iterated ids {got} != {sorted(ids)}")
    check(listing.total == 5 and listing.total_pages == 3, "X-Total / X-Total-Pages")
    check(listing.per_page == 2, "X-Per-Page")
    page2 = group.clusters.list(per_page=2, page=2)
    check([c.id for c in page2] == sorted(ids)[2:4], "explicit page 2")
    check(all(not hasattr(c, "group") for c in page2), "list items have no group")
    everything = group.clusters.list(get_all=True, per_page=2)
    check(len(everything) == 5, "get_all")

    # Get and update.
    fetched = group.clusters.get(first.id)
    check(fetched.group["web_url"].endswith("/groups/qa"), "group web_url")
    fetched.name = "py-renamed"
    fetched.domain = "new.example.com"
    fetched.enabled = False
    fetched.platform_kubernetes_attributes = {"api_url": "https://new-api.example.com"}
    fetched.save()
    again = group.clusters.get(first.id)
    check(again.name == "py-renamed", "renamed")
    check(again.domain == "new.example.com", "domain updated")
    check(again.enabled is False, "disabled")
    check(again.platform_kubernetes["api_url"] == "https://new-api.example.com", "api_url updated")
    check(again.platform_kubernetes["ca_cert"] == CA_PEM.strip(), "ca_cert kept")

    # Errors, as python-gitlab raises them from GitLab's bodies.
    expect(exc.GitlabCreateError, lambda: group.clusters.create({
        "name": "bad", "environment_scope": "py/bad",
        "platform_kubernetes_attributes": pk(api_url="invalid_api_url")}),
        400, {"platform_kubernetes.api_url": ["is blocked: Only allowed schemes are http, https"]})
    expect(exc.GitlabCreateError, lambda: group.clusters.create({
        "name": "dup", "environment_scope": "py/1", "platform_kubernetes_attributes": pk()}),
        400, {"environment_scope": ["cannot add duplicated environment scope"]})
    expect(exc.GitlabCreateError, lambda: group.clusters.create({
        "name": "x", "platform_kubernetes_attributes": {"token": "t"}}),
        400, "platform_kubernetes_attributes[api_url] is missing, platform_kubernetes_attributes[api_url] is empty")
    expect(exc.GitlabCreateError, lambda: group.clusters.create({
        "name": "x", "environment_scope": "py/x", "management_project_id": 8,
        "platform_kubernetes_attributes": pk()}),
        400, {"management_project_id": ["Project does not exist or you don't have permission to perform this action"]})
    bad_update = group.clusters.get(ids[1])
    bad_update.domain = "invalid domain"
    expect(exc.GitlabUpdateError, bad_update.save, 400,
           {"domain": ["contains invalid characters (valid characters: [a-z0-9\\-])"]})
    expect(exc.GitlabGetError, lambda: group.clusters.get(999999), 404, "404 Not found")
    expect(exc.GitlabListError, lambda: gl.groups.get(50, lazy=True).clusters.list(get_all=True),
           404, "404 Group Not Found")
    dev = gitlab.Gitlab(URL, private_token=DEVELOPER, timeout=TIMEOUT)
    expect(exc.GitlabCreateError, lambda: dev.groups.get(42, lazy=True).clusters.create({
        "name": "dev", "environment_scope": "py/dev", "platform_kubernetes_attributes": pk()}),
        403, "403 Forbidden")
    check(len(dev.groups.get(42, lazy=True).clusters.list(get_all=True)) == 5, "developers can read")
    nobody = gitlab.Gitlab(URL, private_token="not-a-token", timeout=TIMEOUT)
    expect(exc.GitlabAuthenticationError, nobody.auth, 401, "401 Unauthorized")

    # Delete.
    again.delete()
    expect(exc.GitlabGetError, lambda: group.clusters.get(first.id), 404, "404 Not found")
    for cid in ids[1:]:
        group.clusters.delete(cid)
    check(group.clusters.list(get_all=True) == [], "all deleted")
    expect(exc.GitlabDeleteError, lambda: group.clusters.delete(ids[1]), 404, "404 Not found")

    print(f"python-gitlab {gitlab.__version__}: {checks} checks passed")


if __name__ == "__main__":
    try:
        main()
    except AssertionError as e:
        print(f"FAILED: {e}", file=sys.stderr)
        sys.exit(1)
