"""The pretend deployment the dashboard shows: its build, license, look, organization, regions.

Every value is fixed (or derived from the request's host), so two starts answer alike.
Sources and choices: openapi/current/DASHBOARD.md section 2.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid5

from mockserver.core.golang import format_time

__all__ = ["FEATURE_NAMES", "Deployment"]

_NAMESPACE = UUID("0d3e7c52-9a41-4b6f-8e2d-7f1a5c9b3e60")

# codersdk.FeatureName at the pinned commit (typesGenerated.ts FeatureNames), in its order.
FEATURE_NAMES = (
    "aibridge",
    "ai_governance_user_limit",
    "access_control",
    "advanced_template_scheduling",
    "agent_runtime_hours",
    "appearance",
    "audit_log",
    "boundary",
    "browser_only",
    "connection_log",
    "control_shared_ports",
    "custom_roles",
    "external_provisioner_daemons",
    "external_token_encryption",
    "high_availability",
    "managed_agent_limit",
    "multiple_external_auth",
    "multiple_organizations",
    "scim",
    "service_accounts",
    "template_rbac",
    "user_limit",
    "user_role_management",
    "workspace_batch_actions",
    "workspace_external_agent",
    "workspace_prebuilds",
    "workspace_proxy",
)
# Entitled and enabled: Coder Agents' runtime hours (no limit: unlimited hours). The others are
# not entitled, so the UI asks nothing a premium feature would add (AI spend, banners).
_ENTITLED = frozenset({"agent_runtime_hours"})


@dataclass(frozen=True, slots=True)
class Deployment:
    """The deployment's fixed facts."""

    organization_id: UUID
    organization_name: str
    version: str = "v2.37.0-devel+004053e8"
    commit: str = "004053e8bda02adca189fadb32f213700e9ab90b"
    created_at: datetime = datetime(2026, 1, 5, 9, 0, 0, tzinfo=UTC)

    @property
    def created(self) -> str:
        """When every row of the deployment was "created", as Go writes it."""
        return format_time(self.created_at)

    @property
    def deployment_id(self) -> UUID:
        return uuid5(_NAMESPACE, "deployment")

    def build_info(self, access_url: str) -> dict[str, Any]:
        """codersdk.BuildInfoResponse."""
        return {
            "external_url": f"https://github.com/coder/coder/commit/{self.commit}",
            "version": self.version,
            "dashboard_url": access_url,
            "telemetry": False,
            "workspace_proxy": False,
            "agent_api_version": "2.0",
            "provisioner_api_version": "1.0",
            "upgrade_message": "",
            "deployment_id": str(self.deployment_id),
        }

    def entitlements(self) -> dict[str, Any]:
        """codersdk.Entitlements: a licensed deployment with Coder Agents entitled."""
        features = {
            name: {"entitlement": "entitled", "enabled": True}
            if name in _ENTITLED
            else {"entitlement": "not_entitled", "enabled": False}
            for name in FEATURE_NAMES
        }
        return {
            "features": features,
            "warnings": [],
            "errors": [],
            "has_license": True,
            "trial": False,
            "require_telemetry": False,
            "refreshed_at": self.created,
        }

    def appearance(self) -> dict[str, Any]:
        """codersdk.AppearanceConfig: Coder's defaults (no name, logo or banner)."""
        return {
            "application_name": "",
            "logo_url": "",
            "docs_url": "https://coder.com/docs",
            "service_banner": {"enabled": False},
            "announcement_banners": [],
            "support_links": [],
        }

    def organization(self) -> dict[str, Any]:
        """codersdk.Organization: the default organization every user of the mock belongs to."""
        return {
            "id": str(self.organization_id),
            "name": self.organization_name,
            "display_name": "Coder",
            "icon": "",
            "description": "Builtin default organization.",
            "created_at": self.created,
            "updated_at": self.created,
            "is_default": True,
            "default_org_member_roles": [],
        }

    def owns(self, organization: str) -> bool:
        """Whether `{organization}` (a name or an id) names the organization."""
        return organization in (self.organization_name, str(self.organization_id))

    def regions(self, access_url: str) -> dict[str, Any]:
        """codersdk.RegionsResponse[Region]: the primary region only (no workspace proxies)."""
        return {
            "regions": [
                {
                    "id": str(uuid5(_NAMESPACE, "region:primary")),
                    "name": "primary",
                    "display_name": "Default",
                    "icon_url": "/emojis/1f3e1.png",
                    "healthy": True,
                    "path_app_url": access_url,
                    "wildcard_hostname": "",
                }
            ]
        }

    @staticmethod
    def ssh_config() -> dict[str, Any]:
        """codersdk.SSHConfigResponse: coderd's defaults."""
        return {"hostname_prefix": "coder.", "hostname_suffix": "coder", "ssh_config_options": {}}
