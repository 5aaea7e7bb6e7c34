"""`/chats/providers` and `/chats/user-provider-configs` (experimental mount only): removed, 410 Gone.

coderd keeps the routes so old clients learn where the API went (handlers
`writeLegacyChatProviderGone`, openapi/current/WIRE.md section 1); `/api/v2` reserves the names.
"""

from __future__ import annotations

from starlette.responses import Response

from mockserver.edge.coder_errors import CoderRefusal

__all__ = ["LegacyProvidersApi"]

GONE = "Legacy chat provider APIs were removed. Use AI provider APIs instead."
GONE_DETAIL = "See https://coder.com/docs/ai-coder/agents/models#providers for AI provider configuration."


class LegacyProvidersApi:
    """Every legacy provider operation answers 410, whatever it was sent."""

    async def _gone(self) -> Response:
        raise CoderRefusal(410, GONE, GONE_DETAIL)

    list_chat_providers = create_chat_provider = update_chat_provider = delete_chat_provider = _gone
    list_user_chat_provider_configs = upsert_user_chat_provider_key = delete_user_chat_provider_key = _gone
