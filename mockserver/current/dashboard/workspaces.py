"""`GET /api/v2/workspaces`: the caller's demo workspace, filtered by the search query.

Each user of the mock owns one workspace (mockserver/core/directory.py); it is shown stopped,
its last build a successful stop with no resources, so the UI offers no agent to connect to.
Sources and choices: openapi/current/DASHBOARD.md section 4.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID, uuid5

from mockserver.core.golang import quote
from mockserver.core.models import User, Workspace
from mockserver.current.dashboard.deployment import Deployment
from mockserver.edge.coder_errors import CoderRefusal

__all__ = ["WorkspaceQuery", "workspace_json", "workspaces_json"]

_NAMESPACE = UUID("5e8a1f3c-2b7d-4c90-a6e4-9d0b3f7c1a25")
_TEMPLATE = "docker"


# Keys coderd's searchquery.Workspaces reads; the mock filters on the first three and accepts
# the others without applying them (a demo user has one workspace).
_APPLIED = ("owner", "organization", "name")
_ACCEPTED = frozenset(
    {
        *_APPLIED,
        "id",
        "template",
        "status",
        "has-agent",
        "dormant",
        "last_used_after",
        "last_used_before",
        "outdated",
        "has-ai-task",
        "has_external_agent",
        "include_agent_metadata",
        "shared",
        "shared_with_user",
        "shared_with_group",
        "healthy",
        "param",
    }
)


class WorkspaceQuery:
    """The `q` of the workspaces list: `key:value` terms and bare `[owner/]name` words."""

    __slots__ = ("_names", "_organizations", "_owners")

    def __init__(self, q: str) -> None:
        self._owners: list[str] = []
        self._organizations: list[str] = []
        self._names: list[str] = []
        for term in _terms(q):
            key, colon, value = term.partition(":")
            if not colon:
                owner, slash, name = term.rpartition("/")
                if slash:
                    self._owners.append(owner)
                self._names.append(name)
            elif key not in _ACCEPTED:
                raise _invalid(key, f"{quote(key)} is not a valid query param")
            elif key == "owner":
                self._owners.append(value)
            elif key == "organization":
                self._organizations.append(value)
            elif key == "name":
                self._names.append(value)

    def matches(self, user: User, workspace: Workspace, deployment: Deployment) -> bool:
        """Whether the caller's `workspace` is in the answer."""
        owner_ok = all(owner in ("me", user.username, str(user.id)) for owner in self._owners)
        org_ok = all(deployment.owns(org) for org in self._organizations)
        name_ok = all(name.lower() in workspace.name.lower() for name in self._names)
        return owner_ok and org_ok and name_ok


def _terms(q: str) -> list[str]:
    """Space-separated terms, a double-quoted stretch kept whole (searchquery's splitting)."""
    terms: list[str] = []
    current: list[str] = []
    quoted = False
    for char in q:
        if char == '"':
            quoted = not quoted
        elif char == " " and not quoted:
            terms.append("".join(current))
            current = []
        else:
            current.append(char)
    terms.append("".join(current))
    return [term for term in terms if term]


def _invalid(field: str, detail: str) -> CoderRefusal:
    return CoderRefusal(
        400, "Invalid workspace search query.", validations=[{"field": field, "detail": detail}]
    )


def workspaces_json(
    user: User, workspaces: Sequence[Workspace], deployment: Deployment, *, offset: int, limit: int
) -> dict[str, Any]:
    """codersdk.WorkspacesResponse: `count` is every match, `workspaces` the page asked for."""
    page = list(workspaces)[offset:]
    if limit > 0:
        page = page[:limit]
    return {
        "workspaces": [workspace_json(user, w, deployment) for w in page],
        "count": len(workspaces),
    }


def workspace_json(user: User, workspace: Workspace, deployment: Deployment) -> dict[str, Any]:
    """codersdk.Workspace: a stopped workspace of the `docker` template."""
    created = deployment.created
    template_id = str(uuid5(_NAMESPACE, "template:docker"))
    version_id = str(uuid5(_NAMESPACE, "template-version:docker"))
    build_id = str(uuid5(_NAMESPACE, f"build:{workspace.id}"))
    job_id = str(uuid5(_NAMESPACE, f"job:{workspace.id}"))
    organization = str(deployment.organization_id)
    build = {
        "id": build_id,
        "created_at": created,
        "updated_at": created,
        "workspace_id": str(workspace.id),
        "workspace_name": workspace.name,
        "workspace_owner_id": str(user.id),
        "workspace_owner_name": user.username,
        "workspace_owner_avatar_url": "",
        "template_version_id": version_id,
        "template_version_name": "v1",
        "build_number": 2,
        "transition": "stop",
        "initiator_id": str(user.id),
        "initiator_name": user.username,
        "job": {
            "id": job_id,
            "created_at": created,
            "started_at": created,
            "completed_at": created,
            "status": "succeeded",
            "file_id": str(uuid5(_NAMESPACE, "file:docker")),
            "tags": {"scope": "organization", "owner": ""},
            "queue_position": 0,
            "queue_size": 0,
            "organization_id": organization,
            "initiator_id": str(user.id),
            "input": {"workspace_build_id": build_id},
            "type": "workspace_build",
            "metadata": {
                "template_version_name": "v1",
                "template_id": template_id,
                "template_name": _TEMPLATE,
                "template_display_name": "Docker",
                "template_icon": "/icon/docker.png",
                "workspace_id": str(workspace.id),
                "workspace_name": workspace.name,
                "workspace_build_transition": "stop",
            },
            "logs_overflowed": False,
        },
        "reason": "initiator",
        "resources": [],
        "status": "stopped",
        "daily_cost": 0,
        "template_version_preset_id": None,
    }
    return {
        "id": str(workspace.id),
        "created_at": created,
        "updated_at": created,
        "owner_id": str(user.id),
        "owner_name": user.username,
        "owner_avatar_url": "",
        "organization_id": organization,
        "organization_name": deployment.organization_name,
        "template_id": template_id,
        "template_name": _TEMPLATE,
        "template_display_name": "Docker",
        "template_icon": "/icon/docker.png",
        "template_allow_user_cancel_workspace_jobs": False,
        "template_active_version_id": version_id,
        "template_require_active_version": False,
        "template_use_classic_parameter_flow": False,
        "latest_build": build,
        "latest_app_status": None,
        "outdated": False,
        "name": workspace.name,
        "last_used_at": created,
        "deleting_at": None,
        "dormant_at": None,
        "health": {"healthy": True, "failing_agents": []},
        "automatic_updates": "never",
        "allow_renames": False,
        "favorite": False,
        "next_start_at": None,
        "is_prebuild": False,
    }
