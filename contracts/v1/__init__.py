"""The V1 Chats API's contract: openapi/chats.yaml and openapi/WIRE.md, rule by rule."""
