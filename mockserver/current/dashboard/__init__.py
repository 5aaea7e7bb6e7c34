"""The dashboard shell: what Coder's web UI asks before and around its Agents page.

Not the Chats API: the signed-in user, the deployment's build, entitlements and appearance,
the organization, the user's workspace and settings (openapi/current/dashboard.yaml,
openapi/current/DASHBOARD.md). On by default with `--api current`; `--no-dashboard` leaves
those paths to the Chats API's 404. `--ui-model-routes` adds the model picker of a UI older
than the pinned server (model_picker.py).
"""

from __future__ import annotations

from mockserver.current.dashboard.shell import dashboard_middleware, model_picker_middleware

__all__ = ["dashboard_middleware", "model_picker_middleware"]
