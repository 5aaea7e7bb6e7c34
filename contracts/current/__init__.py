"""The suite of today's Chats API (`verify --api current`): openapi/current/chats.yaml and its WIRE.md."""
